// Personal data requests (PIPL/GDPR): export everything stored about a person, or erase them.
export { resolvePerson, type PrivacySubject, type Person, type PersonRecord } from './subject';
export { exportPersonalData, type PersonalDataExport, type PrivacyOptions } from './export';
export { erasePerson, type ErasureResult } from './erase';
export { findStrings, scrubStrings, ERASED } from './scrub';
