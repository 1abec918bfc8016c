// Every error code the service answers, with its status and what it means: the one table the
// error model (http/errors.ts), the claim refusals, the OpenAPI document (each route's `code`
// enum) and docs/product.md's table follow. A code not in it does not compile.

export const ERROR_CODES = {
  validation_failed: [
    400,
    'a body, path, query or header value is malformed or breaks a rule; `details.fields` names them',
  ],
  field_not_editable: [400, 'a list edit touches `type`, `starts_at`, `outcome` or `code`'],
  unsupported_file: [400, 'an upload that is neither a text file of codes nor an .xlsx workbook'],
  webhook_url_not_allowed: [
    400,
    'a webhook URL that is not http(s), holds credentials, or reaches a non-public address; `details.fields` says why',
  ],
  bad_request: [400, 'another client error found by the HTTP layer'],
  unauthorized: [401, 'no or unknown API key, or no live session'],
  invalid_credentials: [401, 'wrong email or password, or a disabled operator'],
  forbidden: [403, "the caller's role is too low"],
  password_change_required: [403, 'the operator must replace their one-time password first'],
  csrf_check_failed: [403, 'a cookie-authenticated change without `X-Requested-With`, or from another site'],
  customer_blocked: [403, 'the customer is blocked from claiming'],
  not_found: [404, 'no such route'],
  list_not_found: [404, 'no list has this id'],
  batch_not_found: [404, 'no batch has this id'],
  import_not_found: [404, 'no import has this id'],
  code_not_found: [404, 'no such code'],
  claim_not_found: [404, 'no claim has this id'],
  customer_not_found: [404, 'no registered customer has this id'],
  offer_not_found: [404, 'no offer has this id'],
  api_key_not_found: [404, 'no API key has this id'],
  operator_not_found: [404, 'no operator has this id'],
  webhook_endpoint_not_found: [404, 'no webhook endpoint has this id'],
  webhook_delivery_not_found: [404, 'the webhook endpoint has no delivery with this id'],
  conflict: [409, 'the request conflicts with stored records (a constraint only the database enforced)'],
  already_exists: [409, 'a point account, point source or offer with this key or id exists'],
  email_taken: [409, 'an operator with this email (in any case) exists'],
  cannot_change_own_access: [409, 'an operator cannot disable themselves or change their own role'],
  code_taken: [409, 'the code is already in use'],
  wrong_list_type: [409, 'a batch on a list that is not single-use, or an import on one that is not third-party'],
  list_completed: [409, 'a batch or import on a completed list'],
  redemption_cap_below_claim_count: [409, "the new cap is below the list's claims"],
  code_space_too_small: [409, 'the batch would break the sparsity rule; `details.max_count` fits'],
  batch_not_ready: [409, 'the batch is not active yet'],
  import_not_ready: [409, 'the import is not active yet'],
  code_not_cancellable: [409, 'a multi-use code cannot be cancelled'],
  code_already_claimed: [409, 'the code has already been claimed'],
  list_not_started: [409, "the code's list has not started yet"],
  list_ended: [409, "the code's list has ended"],
  list_cap_reached: [409, "the code's list has reached its redemption cap"],
  code_cancelled: [409, 'the code was cancelled'],
  already_claimed_by_customer: [409, 'the customer has already claimed this code'],
  customer_limit_reached: [409, 'the customer has reached their claim limit (`details.period`, `details.limit`)'],
  claim_already_reversed: [409, 'the claim was reversed before'],
  idempotency_key_in_progress: [409, 'a request with this Idempotency-Key is still running; retry after `Retry-After`'],
  request_timeout: [408, 'the request did not arrive in time'],
  payload_too_large: [413, 'the body is over the limit'],
  unsupported_media_type: [415, 'a body of a content type the route does not take'],
  idempotency_key_reused: [422, 'the Idempotency-Key was used with a different request in the last 24 hours'],
  customer_locked_out: [
    429,
    'the customer tried too many unknown codes and is locked out for a while (`details.locked_until`)',
  ],
  rate_limited: [429, 'over a rate limit; retry after `Retry-After`'],
  headers_too_large: [431, "the request headers are over Node's limit"],
  internal_error: [500, 'an unexpected failure; logged, never detailed in the answer'],
  database_unavailable: [503, 'the database cannot be reached or is out of connections; retry after `Retry-After`'],
  shutting_down: [503, 'this process is shutting down; retry (another node) after `Retry-After`'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const statusOf = (code: ErrorCode): number => ERROR_CODES[code][0];
export const meaningOf = (code: ErrorCode): string => ERROR_CODES[code][1];
/** The meaning as a message to a caller: without its pointer to the details, which the answer carries. */
export const messageOf = (code: ErrorCode): string => meaningOf(code).replace(/ \(`details\.[^)]*\)$/, '');
