/** Stability diagnostics (`diagnostics`): the training monitor, its alarms, and anomaly mode. */
export { AnomalyError, detectAnomaly, isAnomalyEnabled } from '../autograd/anomaly.js';
export * from './alarms.js';
export * from './monitor.js';
export * from './report.js';
