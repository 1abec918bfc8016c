// The shapes the dashboard reads and sends, all derived from the service's OpenAPI document
// (schema.d.ts, written by `npm run api:types`; never edited by hand). A change of the API shows
// up here as a compile error at the call sites, instead of as a stale hand-written copy.
import type { components, operations } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Responses<Op extends keyof operations> = operations[Op]['responses'];

/** The statuses of operation `Op` that mean success. */
type Success<Op extends keyof operations> = Extract<keyof Responses<Op>, 200 | 201 | 202 | 204>;

/** The JSON answer of operation `Op` with `Status` (by default, its success status). */
export type Answer<Op extends keyof operations, Status extends keyof Responses<Op> = Success<Op>> = Json<
  Responses<Op>[Status]
>;

/** The JSON request body of operation `Op`. */
export type RequestBody<Op extends keyof operations> = Json<NonNullable<operations[Op]['requestBody']>>;

/** The query parameters of operation `Op`. */
export type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

type CodeOf<Body> = Body extends { error: { code: infer C } } ? C : never;

/** The `error.code` values operation `Op` may answer, by the document. */
export type ErrorCodeOf<Op extends keyof operations> = {
  [S in keyof Responses<Op>]: CodeOf<Json<Responses<Op>[S]>>;
}[keyof Responses<Op>];

/** Every `error.code` the service may answer. */
export type ErrorCode = { [Op in keyof operations]: ErrorCodeOf<Op> }[keyof operations];

/** `error.details` of an error answer. */
export type ErrorDetails = components['schemas']['ErrorDetails'];

// Session and people
export type Operator = Answer<'getSession'>['operator'];
export type Role = Operator['role'];
export type OperatorRow = Answer<'updateOperator'>;
export type NewOperator = Answer<'createOperator'>;
export type OperatorChanges = RequestBody<'updateOperator'>;
export type ApiKey = components['schemas']['ApiKey'];
export type NewApiKey = Answer<'createApiKey'>;

// Catalog
export type PointKind = components['schemas']['PointAccount'] | components['schemas']['PointSource'];
export type Offer = components['schemas']['Offer'];

// Lists and their codes
export type PromoList = Answer<'getList'>;
export type ListQuery = Query<'listLists'>;
export type ListChanges = RequestBody<'updateList'>;
export type ListType = PromoList['type'];
export type ListStatus = PromoList['status'];
export type Outcome = PromoList['outcome'];
export type Batch = Answer<'getBatch'>;
export type JobStatus = Batch['status'];
export type Charset = Batch['format']['charset'];
export type Import = Answer<'getImport'>;
export type NewImport = Answer<'createImport'>;
export type ImportQuery = Query<'createImport'>;
export type Rejection = Answer<'listImportRejections'>['items'][number];

// Codes, claims and customers
export type CodeDetail = Answer<'getCode'>;
export type CodeStatus = CodeDetail['status'];
export type ClaimRecord = Answer<'getClaim'>;
export type Attempt = Answer<'listCustomerAttempts'>['items'][number];
export type CustomerProfile = Answer<'getCustomer'>;
export type ClaimLimits = Answer<'getClaimLimits'>;

// Troubleshooting
export type TroubleshootReport = Answer<'troubleshoot'>;
export type AuditEvent = TroubleshootReport['audit'][number];
export type TimelineEvent = TroubleshootReport['timeline'][number];
/** Why a claim would be refused (the service's closed list of refusals). */
export type ClaimRefusal = NonNullable<NonNullable<TroubleshootReport['verdict']>['error']>;
