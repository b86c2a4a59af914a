/** An amount in integer minor units of an ISO 4217 currency. Never floating point. */
export interface Money {
  currency: string;
  amountMinor: number;
}

// Active ISO 4217 alphabetic codes. The payments service only needs to know a code is real; amounts are already
// in minor units, so the exponent does not matter here.
const CURRENCIES = new Set(
  (
    'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP ' +
    'CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG ' +
    'HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL ' +
    'MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR ' +
    'RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD ' +
    'TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG'
  ).split(' '),
);

/** The largest amount accepted anywhere: far above any retail payment, far below 2^53. */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

/** True for an active ISO 4217 code, upper case. */
export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

/** Problems with an amount that must be positive, as violations under `field` (e.g. "amount"). */
export function positiveAmountProblems(money: Money, field: string): { field: string; description: string }[] {
  const problems: { field: string; description: string }[] = [];
  if (!isCurrency(money.currency)) {
    problems.push({
      field: `${field}.currency_code`,
      description: `"${money.currency}" is not an ISO 4217 currency code`,
    });
  }
  if (!Number.isSafeInteger(money.amountMinor)) {
    problems.push({ field: `${field}.amount_minor`, description: 'must be a whole number of minor units' });
  } else if (money.amountMinor <= 0) {
    problems.push({ field: `${field}.amount_minor`, description: 'must be positive' });
  } else if (money.amountMinor > MAX_AMOUNT_MINOR) {
    problems.push({ field: `${field}.amount_minor`, description: `must be at most ${MAX_AMOUNT_MINOR}` });
  }
  return problems;
}
