import { liveFields, type AppDocument, type FieldError } from '@tessera/metadata';
import { ENCRYPTION_KEYS_ENV, type KeyRing } from './key-ring';

/**
 * A publish check: an app with an encrypted field is published only where a key is
 * configured, so no encrypted field ever goes live with values that could not be sealed.
 */
export function requireEncryptionKey(ring: () => KeyRing | null) {
  return (doc: AppDocument): FieldError[] => {
    if (ring()) return [];
    const errors: FieldError[] = [];
    doc.objects.forEach((object, i) => {
      if (object.deleted) return;
      object.fields.forEach((field, j) => {
        if (field.encrypted && liveFields(object).includes(field)) {
          errors.push({
            field: `objects/${i}/fields/${j}/encrypted`,
            code: 'no_encryption_key',
            message: `${object.key}.${field.key} is encrypted, but no encryption key is configured: set ${ENCRYPTION_KEYS_ENV} (see docs/security.md)`,
          });
        }
      });
    });
    return errors;
  };
}
