/**
 * The warehouse connection, as the project imports it: the pool with its timeouts and watchdog (pool.ts), the
 * query builder on it (db.ts) and opening the warehouse for a command (open.ts). Three modules so that a command
 * opening the warehouse starts connecting before it loads the query builder (README, "Start-up").
 */
export { createDb } from './db.ts';
export { openWarehouse } from './open.ts';
export {
  createPool,
  type DbTimeouts,
  DEFAULT_DB_TIMEOUTS,
  databaseFault,
  dbTimeouts,
  describeUrl,
  poolTimeouts,
  SESSION_PLANNER_OPTIONS,
  sessionName,
  type Warehouse,
  within,
} from './pool.ts';
