// The audit trail: the append-only audit log and the per-record history reader.
export { AuditLog, appendAudit, type AuditEvent, type AuditEntry, type AuditQuery, type AuditPage } from './audit-log';
export { readRecordHistory, type HistoryEntry, type HistoryOptions, type HistoryPage } from './record-history';
