// The editors of pricing (rate plans, seasons, fees, tax classes, visitor taxes) are one form
// described by fields. This turns a stored record into the form's text and the form back into
// the API's body: money typed in major units (12,50) becomes integer minor units; a blank
// optional number becomes null. What cannot be read is a field error, before any request.
import { parseMajor } from "@/lib/money";

export type FieldType = "text" | "money" | "int" | "decimal" | "bool" | "select" | "date";
export type Field = {
  name: string;
  label: string;
  type: FieldType;
  /** Blank gives null (else the field is required, or left out when `omitBlank`). */
  optional?: boolean;
  omitBlank?: boolean;
  options?: { value: string; label: string }[];
  /** Shown in the table (default: yes). */
  column?: boolean;
};
export type FormValues = Record<string, string | boolean>;

export function toForm(record: Record<string, unknown> | null, fields: Field[], currency: string, digitsOf: (c: string) => number): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    const v = record?.[f.name];
    if (f.type === "bool") out[f.name] = v === true;
    else if (v === null || v === undefined) out[f.name] = "";
    else if (f.type === "money") {
      const c = typeof record?.currency === "string" ? record.currency : currency;
      const digits = digitsOf(c);
      out[f.name] = (Number(v) / 10 ** digits).toFixed(digits);
    } else out[f.name] = String(v);
  }
  return out;
}

export type Messages = { required: string; notAmount: string; notWhole: string; notNumber: string };

export function toBody(
  form: FormValues,
  fields: Field[],
  currency: string,
  msg: Messages,
): { body: Record<string, unknown>; errors: Record<string, string> } {
  const body: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const cur = typeof form.currency === "string" && /^[A-Z]{3}$/.test(form.currency) ? form.currency : currency;
  for (const f of fields) {
    const raw = form[f.name];
    if (f.type === "bool") {
      body[f.name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (f.optional) body[f.name] = null;
      else if (!f.omitBlank) errors[f.name] = msg.required;
      continue;
    }
    if (f.type === "money") {
      const minor = parseMajor(text, cur);
      if (minor === null) errors[f.name] = msg.notAmount;
      else body[f.name] = minor;
    } else if (f.type === "int") {
      if (!/^-?\d+$/.test(text)) errors[f.name] = msg.notWhole;
      else body[f.name] = Number(text);
    } else if (f.type === "decimal") {
      const d = text.replace(",", ".");
      if (!/^-?\d+(\.\d+)?$/.test(d)) errors[f.name] = msg.notNumber;
      else body[f.name] = d;
    } else body[f.name] = f.name === "currency" ? text.toUpperCase() : text;
  }
  return { body, errors };
}
