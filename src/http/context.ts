/**
 * What every API route group and console page is given: the warehouse, the county's config, the log, what day it
 * is in the county, and the one person-lookup limit the API and the console share. Built once by the server.
 */
import type { Logger } from '../../core/log.ts';
import type { Config } from '../../schemas/config.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import type { LookupLimit } from './security.ts';

export interface HttpContext {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  /** Today in the county's time zone (fixed in tests). */
  today: () => string;
  /** The person-lookup limit, one bucket per token for the API and the console together. */
  lookupLimit: LookupLimit;
}
