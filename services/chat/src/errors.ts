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
  group_not_found: { status: 404, message: 'no such group' },
  too_many_members: { status: 400, message: 'a group has too many members' },
  unknown_users: { status: 400, message: 'some members are not users' },
} as const;

export type ChatErrorCode = keyof typeof chatErrors;

export function chatError(
  code: ChatErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(chatErrors, code, details);
}
