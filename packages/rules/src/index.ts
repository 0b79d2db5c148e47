// The rule engine: defaults, formulas, rollups, autonumbers, validation, form behaviour, duplicates, automations.
export {};
