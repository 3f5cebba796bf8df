import { Type } from 'class-transformer';
import {
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsTimeZone,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { CommonEnv } from '#common';

/** audit-service configuration, validated once at boot. */
export class AuditServiceEnv extends CommonEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  override PORT = 3003;

  /** A signed tree head is issued at least this often while the log grows. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  TREE_HEAD_INTERVAL_MS = 5000;

  /** ... or as soon as this many entries are not yet covered by one. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  TREE_HEAD_MAX_ENTRIES = 10_000;

  /**
   * Merkle nodes of the upper tree levels each replica keeps in memory for inclusion proofs
   * (32 bytes each, ~4.7 MB at the default); 0 reads every node from the database.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(16_777_216)
  PROOF_CACHE_MAX_NODES = 131_072;

  /** PEM Ed25519 private key for tree heads; generated under DATA_DIR/keys when unset. */
  @IsOptional()
  @IsString()
  AUDIT_SIGNING_KEY_FILE?: string;

  /**
   * The database role the service acts as at run time: INSERT and SELECT on the log only, so
   * not even a bug in this service can rewrite it. Empty to act as the connecting user.
   */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: '$property must be a PostgreSQL role name' })
  AUDIT_DB_ROLE = 'audit_runtime';

  /** IANA time zone in which the IG reports read days and working hours. */
  @IsTimeZone({ message: '$property must be an IANA time zone, for example Europe/London' })
  REPORT_TIMEZONE = 'Europe/London';

  /** Working hours for the out-of-hours flag, local time; the end is not working time. */
  @Matches(/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/, {
    message: '$property must be HH:MM-HH:MM with the start before the end, for example 08:00-18:00',
  })
  REPORT_WORKING_HOURS = '08:00-18:00';

  /** Working days for the out-of-hours flag; bank holidays in England and Wales never are. */
  @Matches(/^(mon|tue|wed|thu|fri|sat|sun)(,(mon|tue|wed|thu|fri|sat|sun))*$/, {
    message: '$property must be comma-separated days from mon,tue,wed,thu,fri,sat,sun',
  })
  REPORT_WORKING_DAYS = 'mon,tue,wed,thu,fri';

  /** Unusual volume: a user's day above this multiple of their own 30-day daily average ... */
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(1000)
  REPORT_VOLUME_MULTIPLE = 3;

  /** ... and above this many accesses, so a quiet user's few extra looks are not reported. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  REPORT_VOLUME_FLOOR = 20;

  /**
   * ODS code of the organisation whose care records the gateway releases: the sender in the
   * information flow register. Log entries name only the receiving organisation.
   */
  @IsOptional()
  @Matches(/^[A-Z0-9]{3,10}$/, { message: '$property must be an ODS code' })
  RECORD_HOLDER_ODS?: string;

  /** File holding the surname register's HMAC key (base64, 32+ bytes); else DATA_DIR/keys. */
  @IsOptional()
  @IsString()
  REPORT_SURNAME_KEY_FILE?: string;

  /**
   * GOV.UK Notify API key: when set, disclosure notices go through Notify; when not, each is
   * written as a file under NOTIFICATION_OUTBOX_DIR for a developer to read.
   */
  @IsOptional()
  @Matches(
    /^.+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    { message: '$property must be a GOV.UK Notify API key (key name, service id, secret)' },
  )
  NOTIFY_API_KEY?: string;

  /** Notify email template for notices: subject `((subject))`, content `((body))`. */
  @ValidateIf((env: AuditServiceEnv) => Boolean(env.NOTIFY_API_KEY))
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: '$property must be a Notify template id (a UUID) when NOTIFY_API_KEY is set',
  })
  NOTIFY_TEMPLATE_EMAIL?: string;

  /** Notify text message template for notices: content `((body))`. */
  @ValidateIf((env: AuditServiceEnv) => Boolean(env.NOTIFY_API_KEY))
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: '$property must be a Notify template id (a UUID) when NOTIFY_API_KEY is set',
  })
  NOTIFY_TEMPLATE_SMS?: string;

  /** Notify letter template for notices: heading `((subject))`, content `((body))`. */
  @ValidateIf((env: AuditServiceEnv) => Boolean(env.NOTIFY_API_KEY))
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: '$property must be a Notify template id (a UUID) when NOTIFY_API_KEY is set',
  })
  NOTIFY_TEMPLATE_LETTER?: string;

  /** Where notices are written without NOTIFY_API_KEY; DATA_DIR/notifications when unset. */
  @IsOptional()
  @IsString()
  NOTIFICATION_OUTBOX_DIR?: string;

  /** How often the sender looks for notices due, and for deferrals past their review date. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  NOTIFICATION_SEND_INTERVAL_MS = 1000;

  /** Delivery attempts before a notice is marked failed (`attempts-exhausted`). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  NOTIFICATION_MAX_ATTEMPTS = 8;

  /** The first retry comes after about this long, doubling (with jitter) each time ... */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  NOTIFICATION_RETRY_BASE_MS = 60_000;

  /** ... up to this. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  NOTIFICATION_RETRY_CAP_MS = 3_600_000;

  /** Who a person asks or complains to; the notice reads "Contact <this>." (one line). */
  @Matches(/^[^\r\n]{3,300}$/, { message: '$property must be one line of 3-300 characters' })
  NOTICE_CONTACT = 'the Data Protection Officer of the council that keeps your care record';
}

/** Reads and validates the environment; the only place audit-service reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
