// The connection form's pure logic: defaults, ports that follow the encryption choice until
// the user types one, and the same field checks the kernel's ConnectionConfig makes.

export const ENCRYPTIONS = ["SslOnConnect", "StartTls", "None", "Auto"] as const;
export type EncryptionName = (typeof ENCRYPTIONS)[number];
export type Protocol = "imap" | "smtp";

export const ENCRYPTION_HELP: Record<EncryptionName, string> = {
  SslOnConnect: "TLS from the first byte (usually IMAP 993, SMTP 465).",
  StartTls:
    "Connects, then upgrades with STARTTLS (usually IMAP 143, SMTP 587). Fails if the server does not offer it; never continues in plain text.",
  None: "No encryption: the password and mail travel in clear. Only for local test servers.",
  Auto: "TLS on 993/465, required STARTTLS on any other port. Never plain text.",
};

export interface FormValues {
  name: string;
  username: string;
  imap_host: string;
  imap_port: number | null;
  imap_encryption: EncryptionName;
  smtp_host: string;
  smtp_port: number | null;
  smtp_encryption: EncryptionName;
  from_address: string;
  ca_file: string;
  verify_tls: boolean;
  timeout: number;
  /** "password", or "oauth2" (then `oauth` holds the provider's settings, never a secret). */
  auth: "password" | "oauth2";
  oauth: Record<string, unknown> | null;
}

export const FIELD_LABELS: Record<keyof FormValues, string> = {
  name: "Name",
  username: "Username",
  imap_host: "IMAP Host",
  imap_port: "IMAP Port",
  imap_encryption: "IMAP Encryption",
  smtp_host: "SMTP Host",
  smtp_port: "SMTP Port",
  smtp_encryption: "SMTP Encryption",
  from_address: "From address",
  ca_file: "CA file",
  verify_tls: "Verify TLS certificates",
  timeout: "Timeout (s)",
  auth: "Authentication",
  oauth: "OAuth provider",
};

export function defaultPort(encryption: EncryptionName, protocol: Protocol): number {
  const implicit = encryption === "SslOnConnect" || encryption === "Auto";
  if (protocol === "imap") return implicit ? 993 : 143;
  return implicit ? 465 : 587;
}

export function parseEncryption(value: unknown): EncryptionName {
  const key = String(value ?? "")
    .replace(/[\s_-]/g, "")
    .toLowerCase();
  for (const name of ENCRYPTIONS) if (name.toLowerCase() === key) return name;
  if (key === "ssl" || key === "tls" || key === "sslonconnect") return "SslOnConnect";
  return "SslOnConnect";
}

export function normalizeValues(raw: Partial<Record<keyof FormValues, unknown>>): FormValues {
  const imapEncryption = parseEncryption(raw.imap_encryption ?? "SslOnConnect");
  const smtpEncryption = parseEncryption(raw.smtp_encryption ?? "SslOnConnect");
  const port = (value: unknown): number | null => {
    if (value === null || value === undefined || value === "") return null;
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  };
  const text = (value: unknown): string =>
    value === null || value === undefined ? "" : String(value);
  const timeout = Number(raw.timeout ?? 30);
  return {
    name: text(raw.name),
    username: text(raw.username),
    imap_host: text(raw.imap_host),
    imap_port: port(raw.imap_port) ?? defaultPort(imapEncryption, "imap"),
    imap_encryption: imapEncryption,
    smtp_host: text(raw.smtp_host),
    smtp_port: port(raw.smtp_port) ?? defaultPort(smtpEncryption, "smtp"),
    smtp_encryption: smtpEncryption,
    from_address: text(raw.from_address),
    ca_file: text(raw.ca_file),
    verify_tls: raw.verify_tls === undefined ? true : Boolean(raw.verify_tls),
    timeout: Number.isFinite(timeout) ? timeout : 30,
    auth: raw.auth === "oauth2" ? "oauth2" : "password",
    oauth:
      raw.oauth && typeof raw.oauth === "object"
        ? { ...(raw.oauth as Record<string, unknown>) }
        : null,
  };
}

/**
 * Tracks whether each port was typed by the user. An untyped port follows the encryption
 * choice; a typed one stays; clearing the field makes it follow again.
 */
export class PortFollower {
  private typed: Record<Protocol, boolean>;

  constructor(values: FormValues) {
    this.typed = {
      imap:
        values.imap_port !== null &&
        values.imap_port !== defaultPort(values.imap_encryption, "imap"),
      smtp:
        values.smtp_port !== null &&
        values.smtp_port !== defaultPort(values.smtp_encryption, "smtp"),
    };
  }

  isTyped(protocol: Protocol): boolean {
    return this.typed[protocol];
  }

  /** The user typed in the port field; returns the value to store. */
  portTyped(values: FormValues, protocol: Protocol, input: string): FormValues {
    const key = protocol === "imap" ? "imap_port" : "smtp_port";
    const encryption = protocol === "imap" ? values.imap_encryption : values.smtp_encryption;
    if (input.trim() === "") {
      this.typed[protocol] = false;
      return { ...values, [key]: defaultPort(encryption, protocol) };
    }
    this.typed[protocol] = true;
    const n = Number(input.trim());
    return { ...values, [key]: Number.isFinite(n) ? n : Number.NaN };
  }

  /** The user chose another encryption; an untyped port follows it. */
  encryptionChosen(values: FormValues, protocol: Protocol, encryption: EncryptionName): FormValues {
    const next: FormValues =
      protocol === "imap"
        ? { ...values, imap_encryption: encryption }
        : { ...values, smtp_encryption: encryption };
    if (!this.typed[protocol]) {
      if (protocol === "imap") next.imap_port = defaultPort(encryption, "imap");
      else next.smtp_port = defaultPort(encryption, "smtp");
    }
    return next;
  }
}

const CONTROL = /[\r\n\0]/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.@+-]{0,63}$/;
const HOST = /^[^\s/\\@]{1,253}$/;
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$|^[^\s@<>]+@localhost$/;

export type FieldErrors = Partial<Record<keyof FormValues | "password", string>>;

function checkPort(value: number | null, label: string): string | undefined {
  if (value === null) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    return `${label} must be a whole number from 1 to 65535.`;
  }
  return undefined;
}

/** The same checks the kernel makes, so mistakes show before anything is sent. */
export function validateForm(values: FormValues): FieldErrors {
  const errors: FieldErrors = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "string" && CONTROL.test(value)) {
      errors[key as keyof FormValues] = "Line breaks and NUL characters are not allowed here.";
    }
  }
  if (!errors.name && !NAME.test(values.name.trim())) {
    errors.name = values.name.trim()
      ? "Use 1-64 letters, digits, spaces or _ . @ + -, starting with a letter or digit."
      : "Name is required.";
  }
  if (!errors.username && !values.username.trim()) errors.username = "Username is required.";
  if (!errors.imap_host) {
    if (!values.imap_host.trim())
      errors.imap_host = "IMAP Host is required (for example imap.example.org).";
    else if (!HOST.test(values.imap_host.trim()))
      errors.imap_host = "Not a valid host name or IP address.";
  }
  if (!errors.smtp_host && values.smtp_host.trim() && !HOST.test(values.smtp_host.trim())) {
    errors.smtp_host = "Not a valid host name or IP address.";
  }
  const imapPort = checkPort(values.imap_port, "IMAP Port");
  if (imapPort) errors.imap_port = imapPort;
  const smtpPort = checkPort(values.smtp_port, "SMTP Port");
  if (smtpPort) errors.smtp_port = smtpPort;
  if (
    !errors.from_address &&
    values.from_address.trim() &&
    !ADDRESS.test(values.from_address.trim())
  ) {
    errors.from_address = "Not a valid email address.";
  }
  if (!Number.isFinite(values.timeout) || values.timeout <= 0 || values.timeout > 3600) {
    errors.timeout = "Timeout must be more than 0 and at most 3600 seconds.";
  }
  return errors;
}

export function checkPassword(password: string): string | undefined {
  if (CONTROL.test(password)) return "The password must not contain line breaks or NUL characters.";
  return undefined;
}

/** True when the settings send the password without TLS or without certificate checks. */
export function isInsecure(values: FormValues): boolean {
  return (
    values.imap_encryption === "None" || values.smtp_encryption === "None" || !values.verify_tls
  );
}

/**
 * How long the UI waits for a Test/Save reply: the kernel bounds every network step by the
 * timeout, and a test runs up to six of them (IMAP and SMTP: connect, TLS, login), so the
 * front end waits longer than that and offers Cancel meanwhile.
 */
export function slowRequestTimeoutMs(values: FormValues): number {
  const timeout = Number.isFinite(values.timeout) && values.timeout > 0 ? values.timeout : 30;
  return Math.ceil((timeout * 6 + 30) * 1000);
}
