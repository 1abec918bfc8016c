// Shapes the /v1 API answers for the agent and admin views (see src/**/*.schema.ts).
import type { Role } from '../../api';
import type { Outcome } from '../../domain';


export interface ClaimRecord {
  id: string;
  code: string;
  list_id: string;
  list_name: string;
  list_type: string;
  customer_id: string;
  claimed_at: string;
  outcome: Outcome;
  reversed: boolean;
  reversed_at: string | null;
  reversal_reason: string | null;
  reversed_by: string | null;
}

export type CodeStatus = 'available' | 'claimed' | 'cancelled';

export interface CodeList {
  id: string;
  name: string;
  type: string;
  status: string;
  completed_reason: string | null;
  starts_at: string;
  ends_at: string | null;
  redemption_cap: number | null;
  claim_count: number;
}

export interface CodeSource {
  type: string;
  id: string;
  name: string | null;
  status: string;
  created_by: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface CodeDetail {
  code: string;
  normalized: string;
  status: CodeStatus;
  list: CodeList;
  batch_id: string | null;
  import_id: string | null;
  source: CodeSource | null;
  claimed_by: string | null;
  claimed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
  claim_count: number;
  claims: ClaimRecord[];
}

export interface Attempt {
  id: string;
  kind: 'claim' | 'validate';
  code: string;
  customer_id: string;
  list_id: string | null;
  result: 'succeeded' | 'failed';
  reason: string | null;
  claim_id: string | null;
  at: string;
}

export interface CustomerProfile {
  id: string;
  email: string | null;
  name: string | null;
  blocked: boolean;
  blocked_at: string | null;
  blocked_reason: string | null;
  locked_out_until: string | null;
  points: { account: string; balance: number }[];
  offers: { id: string; offer_id: string; name: string; claim_id: string | null; issued_at: string }[];
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface ClaimLimits {
  per_week: number | null;
  per_month: number | null;
  per_year: number | null;
}

export interface AuditEvent {
  id: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  created_at: string;
}

export interface TimelineEvent {
  at: string;
  type: string;
  summary: string;
  ref?: Record<string, string | null>;
}

export interface TroubleshootReport {
  query: { code: string | null; normalized_code: string | null; customer_id: string | null };
  code: (CodeDetail & { list: CodeList & { why: string } }) | null;
  customer: {
    id: string;
    registered: boolean;
    blocked: boolean;
    blocked_at: string | null;
    blocked_reason: string | null;
    locked_out_until: string | null;
    unknown_codes_in_window: number;
    lockout_threshold: number;
    claims: { week: number; month: number; year: number };
    limits: ClaimLimits;
  } | null;
  verdict: { would_succeed: boolean; status: number; error: string | null; message: string; details: unknown } | null;
  attempts: Attempt[];
  claims: ClaimRecord[];
  audit: AuditEvent[];
  timeline: TimelineEvent[];
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface OperatorRow {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  must_change_password: boolean;
  disabled_at: string | null;
  created_at: string;
  last_login_at: string | null;
  password?: string;
}
