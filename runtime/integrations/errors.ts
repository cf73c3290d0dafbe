// Service-level failures, mapped to HTTP statuses by runtime/api (services never import api).
export type ServiceErrorKind = 'not_found' | 'validation' | 'conflict' | 'unavailable';

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly errors?: Record<string, string[]>,
    readonly code?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ServiceError('not_found', `${what} not found.`);
export const invalid = (message: string, errors: Record<string, string[]>) => new ServiceError('validation', message, errors);
