/**
 * Background jobs in the application's own database: enqueue in any transaction, claim with
 * `FOR UPDATE SKIP LOCKED`, hold a lease with a heartbeat, retry with backoff, dedupe by key, and
 * enqueue recurring jobs once per slot across processes. Written here because pg-boss and
 * graphile-worker need a `pg` pool and cannot run on embedded PGlite.
 */
export { type JobRow, type JobStatus, jobCounts, listJobs } from './admin';
export { enqueueJob, type JobDefinition, type NewJob } from './enqueue';
export {
  combineWorkers,
  createWorker,
  type JobHandler,
  type JobInfo,
  JobRetryLater,
  type Worker,
  type WorkerOptions,
} from './worker';
