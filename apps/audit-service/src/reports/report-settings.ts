import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '#common';
import type { AuditServiceEnv } from '../config/env';
import {
  parseWorkingDays,
  parseWorkingHours,
  type VolumeRule,
  type WorkingTime,
} from './confidentiality/flags';

/** Stands in for the sender of every flow while RECORD_HOLDER_ODS is not configured. */
export const UNNAMED_RECORD_HOLDER = 'record-source';

/** The reports' configuration, read from the validated environment once, at boot. */
@Injectable()
export class ReportSettings {
  readonly workingTime: WorkingTime;
  readonly volume: VolumeRule;
  readonly recordHolder: string;

  constructor(@Inject(SERVICE_CONFIG) config: AuditServiceEnv) {
    const hours = parseWorkingHours(config.REPORT_WORKING_HOURS);
    const days = parseWorkingDays(config.REPORT_WORKING_DAYS);
    // The pattern is checked with the rest of the environment; the order of the two times
    // cannot be, so a reversed window stops the service here, naming the variable.
    if (!hours) {
      throw new Error(
        `REPORT_WORKING_HOURS must be HH:MM-HH:MM with the start before the end (got ${config.REPORT_WORKING_HOURS})`,
      );
    }
    if (!days) {
      throw new Error('REPORT_WORKING_DAYS must be comma-separated days from mon to sun');
    }
    this.workingTime = { timeZone: config.REPORT_TIMEZONE, ...hours, days };
    this.volume = {
      multiple: config.REPORT_VOLUME_MULTIPLE,
      floor: config.REPORT_VOLUME_FLOOR,
      historyDays: 30,
    };
    this.recordHolder = config.RECORD_HOLDER_ODS ?? UNNAMED_RECORD_HOLDER;
  }
}
