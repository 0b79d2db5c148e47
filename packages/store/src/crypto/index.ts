// Encrypted fields: the key ring (AES-256-GCM, HMAC blind indexes) and the sealer the record repository applies.
export { KeyRing, ENCRYPTION_KEYS_ENV, environmentKeyRing, isCiphertext, ciphertextKeyId } from './key-ring';
export { FieldSealer, blindIndexKey, type DecryptedRead } from './field-sealer';
export { rotateEncryptedValues, type RotationResult } from './rotate';
export { requireEncryptionKey } from './publish-check';
export { DecryptionCollector, collectDecryptions, activeDecryptionCollector } from './read-audit';
