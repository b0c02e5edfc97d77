import { AppError } from '@platform/kit';

/** The URL shortener's error catalogue. */
export const shortenerErrors = {
  alias_taken: { status: 409, message: 'this alias is already in use' },
  code_not_found: { status: 404, message: 'no link with this code' },
  code_space_exhausted: { status: 503, message: 'no codes are left to assign' },
} as const;

export function shortenerError(
  code: keyof typeof shortenerErrors,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(shortenerErrors, code, details);
}
