"use client";
// Checkout: the hold's countdown, the guest's details (checked here first, then by the API; what
// is wrong is said at each field in the guest's language, see ./checkout), and card payment on
// Stripe's page or an offline method. A hold that runs out is said so, nothing can be paid for
// it, and the dates can be held again.
import { useLocale, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import type { Problem } from "@/api/problem";
import { checkDetails, fromResponse, type CheckoutErrors, type CheckoutField } from "./checkout";
import css from "./site.module.css";

type Props = {
  agency: string;
  propertyId: string;
  checkIn: string;
  checkOut: string;
  adults: number;
  hold: string;
  expires: string;
  instantBook: boolean;
};

function left(expires: string, now: number): number {
  return Math.max(0, Math.floor((Date.parse(expires) - now) / 1000));
}

export function CheckoutForm(props: Props) {
  const { agency, propertyId, checkIn, checkOut, adults, instantBook } = props;
  const t = useTranslations("site");
  const locale = useLocale();
  const router = useRouter();
  const [hold, setHold] = useState({ token: props.hold, expires: props.expires });
  // The clock starts once in the browser: the server's render must match the first one here
  // (a mismatch would render the form anew and drop what the guest typed meanwhile).
  const [now, setNow] = useState<number | null>(null);
  const [gone, setGone] = useState(false);
  const [busy, setBusy] = useState(false);
  // The hold could not be renewed: the API's words (e.g. the dates were taken meanwhile).
  const [holdProblem, setHoldProblem] = useState<string | null>(null);
  const [errors, setErrors] = useState<CheckoutErrors | null>(null);
  const e = useTranslations("site.checkoutErrors");
  const seconds = now === null ? null : left(hold.expires, now);
  const expired = gone || seconds === 0;

  useEffect(() => {
    const tick = () => setNow(Date.now());
    const first = setTimeout(tick, 0);
    const id = setInterval(tick, 1000);
    return () => {
      clearTimeout(first);
      clearInterval(id);
    };
  }, []);

  async function holdAgain() {
    setBusy(true);
    setHoldProblem(null);
    setErrors(null);
    const res = await fetch(`/api/v1/public/${agency}/holds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ property_id: propertyId, check_in: checkIn, check_out: checkOut, adults }),
    }).catch(() => null);
    setBusy(false);
    const body = res ? await res.json().catch(() => ({})) : {};
    if (res?.status !== 201) return setHoldProblem(t("holdFailed"));
    setHold({ token: body.hold_token, expires: body.expires_at });
    setGone(false);
    setNow(Date.now());
    const q = new URLSearchParams({ hold: body.hold_token, expires: body.expires_at, property: propertyId, check_in: checkIn, check_out: checkOut, adults: String(adults) });
    router.replace(`/${agency}/checkout?${q}`);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (expired) return;
    const f = new FormData(event.currentTarget);
    const v = (k: string) => String(f.get(k) ?? "").trim();
    const method = v("payment");
    const own = checkDetails({
      firstName: v("first_name"),
      lastName: v("last_name"),
      email: v("email"),
      phone: v("phone"),
      acceptedTerms: f.get("accepted_terms") === "on",
    });
    setErrors(own);
    if (own) return;
    setBusy(true);
    const res = await fetch(`/api/v1/public/${agency}/bookings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        hold_token: hold.token,
        guest: { first_name: v("first_name") || null, last_name: v("last_name"), email: v("email"), phone: v("phone") || null, language: locale },
        accepted_terms: f.get("accepted_terms") === "on",
        payment_method: method === "card" ? "stripe" : "offline",
        offline_method: method === "card" ? "bank_transfer" : method,
        website: v("website"),
      }),
    }).catch(() => null);
    const body = res ? await res.json().catch(() => ({})) : {};
    if (!res || res.status !== 201) {
      setBusy(false);
      const refused = fromResponse(res ? res.status : null, body as Problem);
      if (refused.holdGone) setGone(true);
      return setErrors(refused);
    }
    const token = String(body.manage_page_url).split("/").pop();
    const done = `${window.location.origin}/${agency}/confirmation/${token}`;
    const client = body.payment?.client as Record<string, string> | undefined;
    if (client?.hosted_page_url) {
      const back = `${done}?pay=${encodeURIComponent(client.hosted_page_url)}`;
      // Stripe's payment page is on another origin (the sandbox's fake Stripe in development).
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign(`${client.hosted_page_url}?${new URLSearchParams({ client_secret: client.client_secret ?? "", return_url: back })}`);
      return;
    }
    router.push(`/${agency}/confirmation/${token}`);
  }

  const clock = seconds === null ? "" : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  const fieldError = (k: CheckoutField) => errors?.fields[k];
  const err = (k: CheckoutField) => {
    const key = fieldError(k);
    return key ? (
      <span id={`${k}-error`} className={css.error} data-testid={`${k}-error`}>
        {e(key)}
      </span>
    ) : null;
  };
  const described = (k: CheckoutField) =>
    fieldError(k) ? { "aria-describedby": `${k}-error`, "aria-invalid": true } : {};

  return (
    <div>
      {expired ? (
        <div role="alert" className={css.alert} data-testid="hold-expired">
          <p>{t("holdExpired")}</p>
          {holdProblem && <p>{holdProblem}</p>}
          <button type="button" className={css.button} onClick={holdAgain} disabled={busy}>
            {t("holdAgain")}
          </button>
        </div>
      ) : (
        <p className={css.note} data-testid="countdown">
          {t("holdCountdown")} <span className={css.countdown} role="timer" aria-live="off">
            {clock}
          </span>
        </p>
      )}
      {errors?.summary && !expired && (
        <p role="alert" className={css.alert} data-testid="checkout-problem">
          {e(errors.summary)}
        </p>
      )}
      <form onSubmit={submit} className={css.form} noValidate aria-label={t("guestDetails")}>
        <label className={css.field}>
          {t("firstName")}
          <input name="first_name" autoComplete="given-name" {...described("first_name")} />
          {err("first_name")}
        </label>
        <label className={css.field}>
          {t("lastName")}
          <input name="last_name" autoComplete="family-name" required {...described("last_name")} />
          {err("last_name")}
        </label>
        <label className={css.field}>
          {t("email")}
          <input name="email" type="email" autoComplete="email" required {...described("email")} />
          {err("email")}
        </label>
        <label className={css.field}>
          {t("phone")}
          <input name="phone" type="tel" autoComplete="tel" {...described("phone")} />
          {err("phone")}
        </label>
        <fieldset className={css.checks} aria-describedby={fieldError("payment") ? "payment-error" : undefined}>
          <legend>{t("payment")}</legend>
          <label>
            <input type="radio" name="payment" value="card" defaultChecked /> {instantBook ? t("payCard") : t("payCardAuthorise")}
          </label>
          <label>
            <input type="radio" name="payment" value="bank_transfer" /> {t("payTransfer")}
          </label>
          <label>
            <input type="radio" name="payment" value="pay_on_arrival" /> {t("payOnArrival")}
          </label>
          {err("payment")}
        </fieldset>
        <label>
          <input type="checkbox" name="accepted_terms" {...described("accepted_terms")} /> {t("acceptTerms")}
        </label>
        {err("accepted_terms")}
        <div className={css.honeypot} aria-hidden="true">
          <label>
            Website
            <input type="text" name="website" tabIndex={-1} autoComplete="off" />
          </label>
        </div>
        <button type="submit" className={css.button} disabled={busy || expired}>
          {instantBook ? t("confirmAndPay") : t("sendRequest")}
        </button>
      </form>
    </div>
  );
}
