export {
  type AcceptedMeterEvent,
  DUPLICATE_METER_EVENT_CODE,
  type InvoiceFields,
  type StandInCustomer,
  type StandInSubscription,
} from './api';
export { type FailureOptions, type StandInRequest, type StripeStandIn, startStripeStandIn } from './standin';
export { API_VERSION, signWebhookPayload } from './webhooks';
