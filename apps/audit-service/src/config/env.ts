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
}

/** Reads and validates the environment; the only place audit-service reads process.env. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}
