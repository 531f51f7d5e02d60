export {
  createStripeBilling,
  meterEventName,
  type StripeBillingOptions,
  usagePriceLookupKey,
} from './stripe-billing';
