import { AppError } from '../../http/errors.ts';

/** The search port's errors: a stable code, an HTTP status for an API to pass on, a message. */
export const searchErrors = {
  unknown_field: { status: 400, message: 'the index has no such field' },
  wrong_field_type: { status: 400, message: 'the field has the wrong type for this' },
  invalid_query: { status: 400, message: 'the search query is invalid' },
  invalid_cursor: { status: 400, message: 'the cursor does not belong to this query' },
  invalid_document: { status: 400, message: 'the document does not fit the index' },
  invalid_index: { status: 500, message: 'the index definition is invalid' },
  fields_changed: {
    status: 500,
    message: 'the index fields changed without a higher version',
  },
} as const;

export type SearchErrorCode = keyof typeof searchErrors;

export function searchError(
  code: SearchErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(searchErrors, code, details);
}
