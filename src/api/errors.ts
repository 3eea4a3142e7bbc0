// The public error API; the definitions live in the bottom layer (src/core/errors.ts) so
// that every layer can import them without importing the API.
export {
  ERROR_CODES,
  hasCode,
  invalidInput,
  isLocalRecErrorLike,
  LocalRecError,
  type LocalRecErrorCode,
  type LocalRecErrorDetails,
} from '../core/errors';
