// The connection form's fields: one labelled row per setting (its input, help and error),
// the IMAP and SMTP groups that sit side by side where the cell is wide enough (manager.css),
// and showing values and field errors. The manager owns the values; every edit goes through
// its `edit` callback, which returns nothing and re-renders what it must.

import { h } from "./dom";
import {
  ENCRYPTION_HELP,
  ENCRYPTIONS,
  type EncryptionName,
  type FieldErrors,
  type FormValues,
  type PortFollower,
  type Protocol,
} from "./form";

interface FieldControl {
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
}

/** An edit of the values: the manager applies it with its PortFollower; `redraw` re-shows them. */
export type Edit = (
  change: (values: FormValues, ports: PortFollower) => FormValues,
  redraw?: boolean,
) => void;

const ADVANCED = ["from_address", "ca_file", "verify_tls", "timeout"];

export class FormFields {
  readonly controls = new Map<string, FieldControl>();
  private helps: Record<Protocol, HTMLElement> = {
    imap: h("div", { className: "nec-help" }),
    smtp: h("div", { className: "nec-help" }),
  };

  constructor(
    private readonly prefix: string,
    private readonly edit: Edit,
    private readonly redraw: () => void,
  ) {}

  row(key: string, label: string, input: HTMLInputElement | HTMLSelectElement, help?: HTMLElement) {
    input.id = `${this.prefix}-${key}`;
    input.name = key;
    input.dataset.field = key;
    const error = h("div", { className: "nec-error", attrs: { "data-error-for": key } });
    this.controls.set(key, { input, error });
    return h("div", { className: "nec-row" }, [
      h("label", { text: label, attrs: { for: input.id } }),
      h("div", { className: "nec-cell" }, [input, help ?? null, error]),
    ]);
  }

  text(key: keyof FormValues, placeholder = ""): HTMLInputElement {
    const input = h("input", { attrs: { type: "text", placeholder, spellcheck: "false" } });
    input.addEventListener("input", () =>
      this.edit((values) => ({ ...values, [key]: input.value })),
    );
    return input;
  }

  /** One protocol's group: host, port (following the encryption until typed) and encryption. */
  server(protocol: Protocol, legend: string, hostPlaceholder: string): HTMLFieldSetElement {
    const name = protocol.toUpperCase();
    const port = h("input", { attrs: { type: "text", inputmode: "numeric", placeholder: "port" } });
    port.addEventListener("input", () =>
      this.edit((values, ports) => ports.portTyped(values, protocol, port.value)),
    );
    // An emptied field shows the port it follows again once the user leaves it.
    port.addEventListener("blur", () => {
      if (port.value.trim() === "") this.redraw();
    });
    const encryption = h(
      "select",
      {},
      ENCRYPTIONS.map((value) => h("option", { text: value, attrs: { value } })),
    );
    encryption.addEventListener("change", () =>
      this.edit(
        (values, ports) =>
          ports.encryptionChosen(values, protocol, encryption.value as EncryptionName),
        true,
      ),
    );
    return h("fieldset", { className: "nec-server", dataset: { protocol } }, [
      h("legend", { text: legend }),
      this.row(`${protocol}_host`, `${name} Host`, this.text(`${protocol}_host`, hostPlaceholder)),
      this.row(`${protocol}_port`, `${name} Port`, port),
      this.row(`${protocol}_encryption`, `${name} Encryption`, encryption, this.helps[protocol]),
    ]);
  }

  /** Show the values in every input but the one being typed in (and never the password). */
  show(values: FormValues): void {
    for (const [key, control] of this.controls) {
      if (key === "password") continue;
      const value = (values as unknown as Record<string, unknown>)[key];
      if (control.input instanceof HTMLInputElement && control.input.type === "checkbox") {
        control.input.checked = Boolean(value);
      } else if (
        document.activeElement !== control.input ||
        control.input instanceof HTMLSelectElement
      ) {
        control.input.value =
          value === null || (typeof value === "number" && Number.isNaN(value)) ? "" : String(value);
      }
    }
    this.helps.imap.textContent = ENCRYPTION_HELP[values.imap_encryption];
    this.helps.smtp.textContent = ENCRYPTION_HELP[values.smtp_encryption];
  }

  /** Put each message next to its field; true when one is in the Advanced options. */
  showErrors(errors: FieldErrors): boolean {
    for (const [key, control] of this.controls) {
      const message = errors[key as keyof FieldErrors] ?? "";
      control.error.textContent = message;
      control.input.setAttribute("aria-invalid", message ? "true" : "false");
    }
    return Object.keys(errors).some((key) => ADVANCED.includes(key));
  }
}
