// The rule engine: defaults, formulas, rollups, autonumbers, validation, form behaviour, duplicates, automations.
export { RuleEngine, ruleEngineFor, MAX_DEPENDENT_RECORDS, type RuleEngineOptions } from './engine/rule-engine';
export { localeOf } from './messages';
export { parsePattern, nextAutonumber, formatAutonumber, autonumberPeriod, type AutonumberPattern } from './autonumber/autonumber';
export { storedForm } from './formulas/formulas';
export { enforcedLayout } from './layouts/form-behaviour';
export * from './duplicates/index';
export { listTasks, listNotifications, INBOX_LIMIT, type InboxTask, type InboxNotification } from './inbox/inbox';
