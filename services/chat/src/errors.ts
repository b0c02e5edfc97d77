import { AppError } from '@platform/kit';

/** The chat system's error catalogue, shared by the REST API and the WebSocket events. */
export const chatErrors = {
  name_taken: { status: 409, message: 'this name is already taken' },
  bad_credentials: { status: 401, message: 'unknown name or wrong password' },
  unauthenticated: { status: 401, message: 'a valid bearer token is required' },
  not_a_member: { status: 403, message: 'you are not a member of this conversation' },
  forbidden: { status: 403, message: 'not yours to read' },
  user_not_found: { status: 404, message: 'no such user' },
  invalid_conversation: { status: 400, message: 'not a conversation id' },
  content_type_required: { status: 400, message: 'an upload needs a Content-Type' },
  unsupported_asset_type: { status: 415, message: 'this content type is not accepted' },
  asset_too_large: { status: 413, message: 'the asset is too large' },
  empty_asset: { status: 400, message: 'an asset needs at least one byte' },
  invalid_asset_id: { status: 400, message: 'expected a SHA-256 in lower-case hex' },
  asset_not_found: { status: 404, message: 'no such asset' },
  /** A send naming an asset no one uploaded: the request is wrong, not its route. */
  attachment_not_found: { status: 400, message: 'no asset has this id: upload it first' },
  message_not_found: { status: 404, message: 'no such message in this conversation' },
  too_many_uploads: { status: 429, message: 'finish an upload before starting another' },
  uploads_busy: { status: 503, message: 'too many uploads at once, try again shortly' },
  group_not_found: { status: 404, message: 'no such group' },
  too_many_members: { status: 400, message: 'a group has too many members' },
  unknown_users: { status: 400, message: 'some members are not users' },
  rate_limited: { status: 429, message: 'too many requests, try again later' },
} as const;

export type ChatErrorCode = keyof typeof chatErrors;

export function chatError(
  code: ChatErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(chatErrors, code, details);
}
