// Everything the widgets exchange with the kernel, typed once: the request/reply protocol's
// custom messages, the synced traits of the approval widget and the connection manager, and
// each request method's params and result. nb_email_conn/widgets/messages.py (and, for Find
// settings / Sign in, messages_signin.py) declare the same names as TypedDicts;
// tests/widgets/widget_messages.json holds examples that pytest checks and vitest renders.

import type { FormValues } from "./form";

/** `{}`: a trait before there is anything to show (no decision yet, no test report yet). */
export type EmptyState = Record<string, never>;

// --- the request/reply protocol ------------------------------------------------------------

export interface RequestMessage<P extends object = object> {
  kind: "request";
  id: string;
  method: string;
  params: P;
}

export interface CancelMessage {
  kind: "cancel";
  id: string;
}

export interface ErrorInfo {
  type: string;
  message: string;
  field: string | null;
}

export interface ReplyOk<R = unknown> {
  kind: "reply";
  id: string;
  ok: true;
  result: R;
}

export interface ReplyError {
  kind: "reply";
  id: string;
  ok: false;
  error: ErrorInfo;
}

export type ReplyMessage<R = unknown> = ReplyOk<R> | ReplyError;

/** A widget's request methods: name -> the params it takes and the result it answers with. */
export type MethodMap = Record<string, { params: object; result: unknown }>;

// --- the approval widget: previews -----------------------------------------------------------

export interface AttachmentInfo {
  filename: string;
  content_type: string;
  size: number;
}

/** The message a reply or forward is about; date in ISO 8601 or null. */
export interface OriginalMessage {
  from: string;
  subject: string;
  date: string | null;
}

/** One message a bulk action touches, as its headers say. */
export interface MessageRow {
  ref: string;
  folder: string;
  date: string;
  from: string;
  subject: string;
}

/** send_email, create_draft, reply_email, forward_email. */
export interface ComposePreview {
  summary: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  recipients: string[];
  subject: string;
  body_excerpt: string;
  attachments: AttachmentInfo[];
  size: number;
  replying_to?: OriginalMessage;
  forwarding?: OriginalMessage;
}

/** delete_emails, update_flags, move_emails, copy_emails. */
export interface BulkPreview {
  summary: string;
  count: number;
  messages: MessageRow[];
  folder?: string;
  add?: string[];
  remove?: string[];
  permanent?: boolean;
}

/** A function without a preview of its own. */
export interface SummaryPreview {
  summary: string;
}

export type Preview = ComposePreview | BulkPreview | SummaryPreview;

// --- the approval widget: traits and the decide request --------------------------------------

export type ApprovalState = "pending" | "approved" | "edited" | "rejected" | "done" | "failed";
export type DecisionAction = "approve" | "edit" | "reject";
export type DecidedState = "approved" | "edited" | "rejected";
export type OutcomeStatus = "done" | "failed" | "rejected";
export type EditKind = "text" | "multiline" | "addresses" | "flags" | "boolean";

/** A text input of "approve with changes" (addresses comma-separated, flags space-separated). */
export interface TextEditField {
  name: string;
  kind: "text" | "multiline" | "addresses" | "flags";
  label: string;
  value: string;
}

/** A checkbox of "approve with changes". */
export interface BooleanEditField {
  name: string;
  kind: "boolean";
  label: string;
  value: boolean;
}

/** One input of the edit form, in the registry's order. */
export type EditField = TextEditField | BooleanEditField;

/** The `request` trait (`editable` empty: no Edit button). */
export interface ApprovalRequest {
  id: number;
  function: string;
  connection: string;
  summary: string;
  preview: Preview;
  editable: EditField[];
}

export interface DecisionState {
  action: DecisionAction;
  reason: string | null;
  changes: Record<string, unknown>;
}

export interface OutcomeState {
  status: OutcomeStatus;
  detail: string;
}

export interface DecideParams {
  action: DecisionAction;
  reason?: string;
  changes?: Record<string, string | boolean>;
}

export interface DecideResult {
  state: DecidedState;
}

export interface ApprovalModel {
  request: ApprovalRequest;
  state: ApprovalState;
  decision: DecisionState | EmptyState;
  outcome: OutcomeState | EmptyState;
}

export type ApprovalMethods = {
  decide: { params: DecideParams; result: DecideResult };
};

// --- the connection manager: traits -----------------------------------------------------------

export type PolicyValue = "enabled" | "confirm" | "disabled";

export interface FunctionInfo {
  name: string;
  description: string;
  default: PolicyValue;
  writes: boolean;
}

export interface StatusState {
  state: "idle" | "working" | "ok" | "error" | "warning";
  message: string;
}

export interface Step {
  protocol: "imap" | "smtp";
  name: string;
  ok: boolean;
  detail: string;
  seconds?: number;
}

/** The `report` trait after Test connection. */
export interface ReportState {
  ok: boolean;
  insecure: boolean;
  steps: Step[];
  imap_capabilities?: string[];
  smtp_extensions?: string[];
}

export interface KeyringState {
  usable: boolean;
  description: string;
}

export interface SavedConnection {
  name: string;
  username: string;
  imap_host: string;
}

/** The `guardrails` trait: `Guardrails.to_dict()`; null = no such limit (no list: anyone). */
export interface GuardrailsState {
  allowed_recipients: string[] | null;
  max_recipients: number | null;
  max_sends_per_hour: number | null;
  dry_run: boolean;
}

export interface ManagerModel {
  values: Partial<Record<keyof FormValues, unknown>>;
  password_set: boolean;
  saved: SavedConnection[];
  policies: Record<string, PolicyValue>;
  functions: FunctionInfo[];
  status: StatusState;
  report: ReportState | EmptyState;
  keyring: KeyringState;
  session_only: boolean;
  connection_name: string;
  guardrails: GuardrailsState;
  discovered: DiscoveredOption[];
  sign_in: SignInState | EmptyState;
  /** A client secret is kept in the kernel for the provider the form names (never the secret). */
  client_secret_set: boolean;
}

// --- the connection manager: requests ---------------------------------------------------------

export interface ConnectionTestParams {
  values: FormValues;
  /** The typed password, if any: it exists only inside this one request. */
  password?: string;
  /** The typed OAuth client secret, if any: likewise only inside this one request. */
  client_secret?: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  cancelled?: boolean;
}

export interface SaveParams extends ConnectionTestParams {
  session_only?: boolean;
}

export interface SaveResult {
  saved: string;
  session_only: boolean;
}

export interface LoadParams {
  name: string;
}

export interface LoadResult {
  name: string;
}

export interface ForgetParams {
  name: string;
}

export interface ForgetResult {
  forgotten: string;
}

export interface SetPolicyParams {
  function: string;
  policy: PolicyValue;
}

/** Every function's policy after the change. */
export type SetPolicyResult = Record<string, PolicyValue>;

/** `set_guardrails`: the new guardrails, all four settings (the kernel checks each). */
export interface SetGuardrailsParams {
  guardrails: GuardrailsState;
}

/** The guardrails in force after the change. */
export type SetGuardrailsResult = GuardrailsState;

export type ManagerMethods = {
  test_connection: { params: ConnectionTestParams; result: ConnectionTestResult };
  save: { params: SaveParams; result: SaveResult };
  load: { params: LoadParams; result: LoadResult };
  forget: { params: ForgetParams; result: ForgetResult };
  set_policy: { params: SetPolicyParams; result: SetPolicyResult };
  set_guardrails: { params: SetGuardrailsParams; result: SetGuardrailsResult };
} & SignInMethods;

// --- the connection manager: Find settings and Sign in (messages_signin.py) -----------------

export type SignInKind = "pending" | "signed_in" | "denied" | "expired" | "failed" | "cancelled";
export type SignInMethod = "device" | "browser";
/** A preset, or the provider already in the form's values (set up in Python). */
export type ProviderChoice = "microsoft" | "google" | "configured";

/** One `discover` result as the form shows it. */
export interface DiscoveredOption {
  label: string;
  source: string;
  secure: boolean;
  auth: "password" | "oauth2";
  oauth_provider: string | null;
  warnings: string[];
  notes: string[];
  values: Record<string, unknown>;
}

/** The `sign_in` trait, or {} before any sign-in. */
export interface SignInState {
  state: SignInKind;
  method: SignInMethod;
  provider: string;
  message: string;
  verification_uri: string | null;
  user_code: string | null;
  expires_at: string | null;
  authorization_url: string | null;
}

export interface DiscoverParams {
  address: string;
}

export interface DiscoverResult {
  count: number;
}

export interface SignInParams {
  values: Record<string, unknown>;
  provider: ProviderChoice;
  client_id: string;
  tenant?: string;
  /** The typed client secret, if any: it exists only inside this one request. */
  client_secret?: string;
  method?: SignInMethod;
  session_only?: boolean;
}

export interface SignInResult {
  state: SignInKind;
  method: SignInMethod;
}

export interface CompleteSignInParams {
  url: string;
}

export type CancelSignInParams = Record<string, never>;
/** `cancel_sign_in`'s answer when no sign-in was running. */
export type NoSignIn = Record<string, never>;
export type CancelSignInResult = SignInResult | NoSignIn;

export type SignInMethods = {
  discover: { params: DiscoverParams; result: DiscoverResult };
  sign_in: { params: SignInParams; result: SignInResult };
  complete_sign_in: { params: CompleteSignInParams; result: SignInResult };
  cancel_sign_in: { params: CancelSignInParams; result: CancelSignInResult };
};
