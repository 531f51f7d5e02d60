export { AppError, type ErrorBody, type ErrorCode, errorBody, errorStatus, isAppError } from './errors';
export { type IdKind, idPrefixes, isId, newId } from './ids';
