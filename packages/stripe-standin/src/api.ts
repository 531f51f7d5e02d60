import { randomBytes, randomUUID } from 'node:crypto';
import { type Form, list } from './form';

/**
 * The `code` of the 400 answered for a meter event whose `identifier` was already accepted within the
 * last 24 hours. Stripe documents the uniqueness but no code; this is the closest in its list.
 */
export const DUPLICATE_METER_EVENT_CODE = 'resource_already_exists';

/** The body of a Stripe error, sent as `{ error: … }`. */
export interface StripeErrorBody {
  type: 'invalid_request_error' | 'api_error' | 'idempotency_error';
  message: string;
  code?: string;
  param?: string;
}

/** Thrown by a handler; answered as Stripe answers errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

type Metadata = Record<string, string>;

/** A stored object in Stripe's wire shape, typed where the stand-in reads it. */
interface StripeObject {
  id: string;
  object: string;
  created: number;
  [field: string]: unknown;
}

export interface StandInCustomer extends StripeObject {
  object: 'customer';
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Metadata;
}

export interface StandInSubscription extends StripeObject {
  object: 'subscription';
  customer: string;
  status: 'active' | 'canceled';
  metadata: Metadata;
}

interface Recurring {
  interval: string;
  interval_count: number;
  meter: string | null;
  trial_period_days: null;
  usage_type: string;
}

interface Price extends StripeObject {
  active: boolean;
  currency: string;
  lookup_key: string | null;
  product: string;
  type: 'one_time' | 'recurring';
  recurring: Recurring | null;
}

interface Meter extends StripeObject {
  event_name: string;
  status: 'active' | 'inactive';
  default_aggregation: { formula: string };
  customer_mapping: { event_payload_key: string; type: 'by_id' };
  value_settings: { event_payload_key: string };
}

export interface AcceptedMeterEvent {
  identifier: string;
  event_name: string;
  customer: string;
  /** What the event adds to its meter: the payload's value, or 1 on a `count` meter. */
  value: number;
  timestamp: number;
}

/** Fields for `invoice()`; everything but `customer` has a default. */
export interface InvoiceFields {
  customer: string;
  subscription?: string;
  /** Default `paid`. */
  status?: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  /** In the currency's smallest unit. Default 0. */
  amount_due?: number;
  /** Default: `amount_due` when paid, else 0. */
  amount_paid?: number;
  /** Default `usd`. */
  currency?: string;
  /** Default: now. */
  period_start?: number;
  /** Default: now. */
  period_end?: number;
  metadata?: Metadata;
}

type Handler = (params: Form, id: string) => unknown;

const DAY = 24 * 60 * 60;
const groupingWindows = new Map([
  ['hour', 60 * 60],
  ['day', DAY],
]);

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id like Stripe's: `cus_NffrFeUfNV2Hib`. */
export function stripeId(prefix: string, length = 24): string {
  return `${prefix}_${Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('')}`;
}

function invalid(message: string, code?: string, param?: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message, code, param });
}

function missing(param: string): never {
  throw invalid(`Missing required param: ${param}.`, 'parameter_missing', param);
}

/** A path id that names nothing is a 404; an id in the params that names nothing is a 400 on that param. */
function noSuch(kind: string, id: string, param = 'id'): ApiError {
  return new ApiError(param === 'id' ? 404 : 400, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

function find<T>(map: Map<string, T>, kind: string, id: string, param = 'id'): T {
  const found = map.get(id);
  if (found) return found;
  throw noSuch(kind, id, param);
}

function str(params: Form, key: string, param = key): string | undefined {
  const value = params[key];
  if (typeof value === 'object') throw invalid(`Invalid string: ${param}`, undefined, param);
  return value;
}

function required(params: Form, key: string, param = key): string {
  return str(params, key, param) || missing(param);
}

function obj(params: Form, key: string): Form {
  const value = params[key];
  return typeof value === 'object' ? value : {};
}

function int(params: Form, key: string, param = key): number | undefined {
  const value = str(params, key, param);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, 'parameter_invalid_integer', param);
  return Number(value);
}

function bool(params: Form, key: string): boolean | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw invalid(`Invalid boolean: ${value}`, undefined, key);
  return value === 'true';
}

/** Stripe's metadata update: keys merge, an empty value removes its key, and `metadata=` clears them all. */
function metadata(param: string | Form | undefined, current: Metadata = {}): Metadata {
  if (param === undefined) return current;
  if (typeof param === 'string') {
    if (param === '') return {};
    throw invalid('Invalid object: metadata must be a hash.', undefined, 'metadata');
  }
  const next = { ...current };
  for (const key of Object.keys(param)) {
    const value = str(param, key, `metadata[${key}]`) ?? '';
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Stripe's list envelope over `items` (newest first), paged by `limit`, `starting_after`, `ending_before`. */
function page<T extends { id: string }>(items: T[], url: string, query: Form) {
  const limit = int(query, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be 1 to 100.', undefined, 'limit');
  const cursor = (param: string) => {
    const id = str(query, param);
    if (id === undefined) return undefined;
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) throw invalid(`No such object: '${id}'`, 'resource_missing', param);
    return index;
  };
  const before = cursor('ending_before');
  const after = cursor('starting_after');
  const from = before !== undefined ? Math.max(0, before - limit) : after !== undefined ? after + 1 : 0;
  const to = before ?? Math.min(items.length, from + limit);
  const has_more = before !== undefined ? from > 0 : to < items.length;
  return { object: 'list', data: items.slice(from, to), has_more, url };
}

const newest = <T>(map: Map<string, T>): T[] => [...map.values()].reverse();

function store<T extends { id: string }>(map: Map<string, T>, item: T): T {
  map.set(item.id, item);
  return item;
}

function periodEnd(start: number, interval: string, count: number): number {
  const date = new Date(start * 1000);
  if (interval === 'day') date.setUTCDate(date.getUTCDate() + count);
  if (interval === 'week') date.setUTCDate(date.getUTCDate() + 7 * count);
  if (interval === 'month') date.setUTCMonth(date.getUTCMonth() + count);
  if (interval === 'year') date.setUTCFullYear(date.getUTCFullYear() + count);
  return Math.floor(date.getTime() / 1000);
}

/** The Stripe API's state and endpoints, in memory. */
export function createStripeApi(clock: () => number = Date.now) {
  const now = () => Math.floor(clock() / 1000);
  const customers = new Map<string, StandInCustomer>();
  const products = new Map<string, StripeObject>();
  const prices = new Map<string, Price>();
  const meters = new Map<string, Meter>();
  const subscriptions = new Map<string, StandInSubscription>();
  const invoices = new Map<string, StripeObject>();
  const meterEvents: AcceptedMeterEvent[] = [];
  /** Identifier → when its event was accepted (ms), for the rolling 24 h uniqueness. */
  const identifiers = new Map<string, number>();

  function createCustomer(params: Form): StandInCustomer {
    return store(customers, {
      id: stripeId('cus', 14),
      object: 'customer',
      address: null,
      balance: 0,
      created: now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: str(params, 'description') ?? null,
      email: str(params, 'email') ?? null,
      invoice_settings: {
        custom_fields: null,
        default_payment_method: null,
        footer: null,
        rendering_options: null,
      },
      livemode: false,
      metadata: metadata(params.metadata),
      name: str(params, 'name') ?? null,
      phone: str(params, 'phone') ?? null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    });
  }

  function updateCustomer(params: Form, id: string): StandInCustomer {
    const customer = find(customers, 'customer', id);
    const changes: Partial<StandInCustomer> = { metadata: metadata(params.metadata, customer.metadata) };
    for (const field of ['description', 'email', 'name', 'phone'] as const) {
      const value = str(params, field);
      if (value !== undefined) changes[field] = value || null;
    }
    return Object.assign(customer, changes);
  }

  function newProduct(params: Form, nameParam = 'name'): StripeObject {
    const created = now();
    return {
      id: stripeId('prod', 14),
      object: 'product',
      active: true,
      created,
      default_price: null,
      description: str(params, 'description') ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: metadata(params.metadata),
      name: required(params, 'name', nameParam),
      package_dimensions: null,
      shippable: null,
      tax_code: null,
      type: 'service',
      unit_label: null,
      updated: created,
      url: null,
    };
  }

  function recurringOf(params: Form): Recurring {
    const interval = required(params, 'interval', 'recurring[interval]');
    if (!['day', 'week', 'month', 'year'].includes(interval)) {
      throw invalid(
        `Invalid recurring[interval]: must be one of day, week, month, or year`,
        undefined,
        'recurring[interval]',
      );
    }
    const usage_type = str(params, 'usage_type', 'recurring[usage_type]') ?? 'licensed';
    const meter = str(params, 'meter', 'recurring[meter]');
    if (meter) find(meters, 'billing meter', meter, 'recurring[meter]');
    // Since API version 2025-03-31, a metered price must be backed by a meter.
    if (usage_type === 'metered' && !meter) missing('recurring[meter]');
    const interval_count = int(params, 'interval_count', 'recurring[interval_count]') ?? 1;
    return { interval, interval_count, meter: meter ?? null, trial_period_days: null, usage_type };
  }

  function createPrice(params: Form): Price {
    const currency = required(params, 'currency').toLowerCase();
    const productId = str(params, 'product');
    const productData = typeof params.product_data === 'object' ? params.product_data : undefined;
    const product = productId
      ? find(products, 'product', productId, 'product')
      : productData && newProduct(productData, 'product_data[name]');
    if (!product) {
      throw invalid(
        'You must specify either `product` or `product_data` when creating a price.',
        'parameter_missing',
        'product',
      );
    }
    const recurring = params.recurring === undefined ? null : recurringOf(obj(params, 'recurring'));
    const billing_scheme = str(params, 'billing_scheme') ?? 'per_unit';
    const unitAmount = int(params, 'unit_amount');
    const decimal = str(params, 'unit_amount_decimal');
    if (decimal !== undefined && !/^\d+(\.\d+)?$/.test(decimal)) {
      throw invalid(`Invalid decimal: ${decimal}`, undefined, 'unit_amount_decimal');
    }
    if (unitAmount !== undefined && decimal !== undefined) {
      throw invalid(
        'You may only specify one of these parameters: unit_amount, unit_amount_decimal.',
        'parameters_exclusive',
        'unit_amount_decimal',
      );
    }
    if (billing_scheme === 'per_unit' && unitAmount === undefined && decimal === undefined) {
      missing('unit_amount');
    }
    const lookup_key = str(params, 'lookup_key') ?? null;
    const holder =
      lookup_key === null ? undefined : [...prices.values()].find((p) => p.lookup_key === lookup_key);
    if (holder && !bool(params, 'transfer_lookup_key')) {
      throw invalid(`A price (\`${holder.id}\`) already uses that lookup key.`, undefined, 'lookup_key');
    }
    const price: Price = {
      id: stripeId('price'),
      object: 'price',
      active: bool(params, 'active') ?? true,
      billing_scheme,
      created: now(),
      currency,
      custom_unit_amount: null,
      livemode: false,
      lookup_key,
      metadata: metadata(params.metadata),
      nickname: str(params, 'nickname') ?? null,
      product: product.id,
      recurring,
      tax_behavior: str(params, 'tax_behavior') ?? 'unspecified',
      tiers_mode: null,
      transform_quantity: null,
      type: recurring ? 'recurring' : 'one_time',
      // A fractional decimal amount has no integer unit_amount.
      unit_amount:
        unitAmount ?? (decimal !== undefined && Number.isInteger(Number(decimal)) ? Number(decimal) : null),
      unit_amount_decimal: decimal ?? (unitAmount === undefined ? null : String(unitAmount)),
    };

    // All validated: only now change anything.
    if (holder) holder.lookup_key = null;
    if (!productId) store(products, product);
    return store(prices, price);
  }

  function listPrices(query: Form) {
    const active = bool(query, 'active');
    const lookupKeys = list(query.lookup_keys);
    const product = str(query, 'product');
    const type = str(query, 'type');
    const matches = (price: Price) =>
      (active === undefined || price.active === active) &&
      (lookupKeys.length === 0 || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
      (product === undefined || price.product === product) &&
      (type === undefined || price.type === type);
    return page(newest(prices).filter(matches), '/v1/prices', query);
  }

  function createMeter(params: Form): Meter {
    const display_name = required(params, 'display_name');
    const event_name = required(params, 'event_name');
    const formula = required(obj(params, 'default_aggregation'), 'formula', 'default_aggregation[formula]');
    if (!['count', 'last', 'sum'].includes(formula)) {
      throw invalid(
        `Invalid default_aggregation[formula]: must be one of count, last, or sum`,
        undefined,
        'default_aggregation[formula]',
      );
    }
    if ([...meters.values()].some((meter) => meter.event_name === event_name)) {
      throw invalid(
        `A meter with event_name '${event_name}' already exists.`,
        'resource_already_exists',
        'event_name',
      );
    }
    const created = now();
    return store(meters, {
      id: stripeId('mtr'),
      object: 'billing.meter',
      created,
      customer_mapping: {
        event_payload_key: str(obj(params, 'customer_mapping'), 'event_payload_key') ?? 'stripe_customer_id',
        type: 'by_id',
      },
      default_aggregation: { formula },
      display_name,
      event_name,
      event_time_window: str(params, 'event_time_window') ?? null,
      livemode: false,
      status: 'active',
      status_transitions: { deactivated_at: null },
      updated: created,
      value_settings: {
        event_payload_key: str(obj(params, 'value_settings'), 'event_payload_key') ?? 'value',
      },
    });
  }

  /**
   * Stripe checks most of this asynchronously and reports it in `v1.billing.meter.error_report_triggered`
   * events (the codes used here are that report's); the stand-in answers it at once, as a 400.
   */
  function createMeterEvent(params: Form) {
    const event_name = required(params, 'event_name');
    if (params.payload === undefined) missing('payload');
    const payload = obj(params, 'payload');
    const meter = [...meters.values()].find((m) => m.event_name === event_name && m.status === 'active');
    if (!meter) {
      throw invalid(`No active meter was found for event_name '${event_name}'.`, 'no_meter', 'event_name');
    }

    const customerKey = meter.customer_mapping.event_payload_key;
    const customer = str(payload, customerKey, `payload[${customerKey}]`);
    if (!customer) {
      throw invalid(
        `The payload has no customer in '${customerKey}'.`,
        'meter_event_no_customer_defined',
        `payload[${customerKey}]`,
      );
    }
    if (!customers.has(customer)) {
      throw invalid(
        `No such customer: '${customer}'`,
        'meter_event_customer_not_found',
        `payload[${customerKey}]`,
      );
    }

    const valueKey = meter.value_settings.event_payload_key;
    const raw = str(payload, valueKey, `payload[${valueKey}]`);
    const counted = meter.default_aggregation.formula === 'count';
    if (!counted && !/^-?\d+(\.\d+)?$/.test(raw ?? '')) {
      throw invalid(
        `The value '${raw ?? ''}' in '${valueKey}' is not a number.`,
        'meter_event_invalid_value',
        `payload[${valueKey}]`,
      );
    }

    const nowMs = clock();
    const created = Math.floor(nowMs / 1000);
    const timestamp = int(params, 'timestamp') ?? created;
    if (timestamp < created - 35 * DAY) {
      throw invalid(
        'The timestamp must be within the past 35 days.',
        'timestamp_too_far_in_past',
        'timestamp',
      );
    }
    if (timestamp > created + 5 * 60) {
      throw invalid(
        'The timestamp must be no more than 5 minutes in the future.',
        'timestamp_in_future',
        'timestamp',
      );
    }

    const identifier = str(params, 'identifier') || randomUUID();
    const seen = identifiers.get(identifier);
    if (seen !== undefined && nowMs - seen < DAY * 1000) {
      throw invalid(
        `An event already exists with identifier ${identifier}.`,
        DUPLICATE_METER_EVENT_CODE,
        'identifier',
      );
    }
    identifiers.set(identifier, nowMs);
    meterEvents.push({ identifier, event_name, customer, value: counted ? 1 : Number(raw), timestamp });
    return {
      object: 'billing.meter_event',
      created,
      event_name,
      identifier,
      livemode: false,
      payload,
      timestamp,
    };
  }

  /** One summary over [start_time, end_time), or one per hour or day with `value_grouping_window`. */
  function eventSummaries(query: Form, id: string) {
    const meter = find(meters, 'billing meter', id);
    const customer = find(customers, 'customer', required(query, 'customer'), 'customer').id;
    const start = int(query, 'start_time') ?? missing('start_time');
    const end = int(query, 'end_time') ?? missing('end_time');
    for (const [param, time] of [
      ['start_time', start],
      ['end_time', end],
    ] as const) {
      if (time % 60 !== 0) throw invalid(`${param} must be aligned to a minute.`, undefined, param);
    }
    if (end <= start) throw invalid('end_time must be after start_time.', undefined, 'end_time');
    const grouping = str(query, 'value_grouping_window');
    const step = grouping === undefined ? end - start : groupingWindows.get(grouping);
    if (!step) {
      throw invalid('Invalid value_grouping_window: must be day or hour', undefined, 'value_grouping_window');
    }

    const events = meterEvents.filter((e) => e.event_name === meter.event_name && e.customer === customer);
    const summaries = [];
    for (let from = start; from < end; from += step) {
      const to = Math.min(end, from + step);
      const inWindow = events.filter((e) => e.timestamp >= from && e.timestamp < to);
      summaries.push({
        // Derived, so a later page's `starting_after` still finds it.
        id: `mtrusg_${Buffer.from(`${meter.id}:${customer}:${from}`).toString('base64url')}`,
        object: 'billing.meter_event_summary',
        aggregated_value:
          meter.default_aggregation.formula === 'last'
            ? (inWindow.toSorted((a, b) => a.timestamp - b.timestamp).at(-1)?.value ?? 0)
            : inWindow.reduce((sum, e) => sum + e.value, 0),
        end_time: to,
        livemode: false,
        meter: meter.id,
        start_time: from,
      });
    }
    return page(summaries.reverse(), `/v1/billing/meters/${meter.id}/event_summaries`, query);
  }

  function createSubscription(params: Form): StandInSubscription {
    const customer = find(customers, 'customer', required(params, 'customer'), 'customer').id;
    const itemParams = list(params.items).map((item) => (typeof item === 'object' ? item : {}));
    if (itemParams.length === 0) missing('items');
    const id = stripeId('sub');
    const created = now();
    const items = itemParams.map((item, i) => {
      const param = `items[${i}][price]`;
      const price = find(prices, 'price', required(item, 'price', param), param);
      if (!price.recurring) {
        throw invalid(
          `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
          undefined,
          param,
        );
      }
      const metered = price.recurring.usage_type === 'metered';
      const quantity = int(item, 'quantity', `items[${i}][quantity]`);
      if (metered && quantity !== undefined) {
        throw invalid(
          'Quantity should not be specified where usage_type is `metered`.',
          undefined,
          `items[${i}][quantity]`,
        );
      }
      return {
        id: stripeId('si', 14),
        object: 'subscription_item',
        created,
        current_period_start: created,
        current_period_end: periodEnd(created, price.recurring.interval, price.recurring.interval_count),
        discounts: [],
        metadata: metadata(item.metadata),
        price: structuredClone(price),
        ...(metered ? {} : { quantity: quantity ?? 1 }),
        subscription: id,
        tax_rates: [],
      };
    });
    return store(subscriptions, {
      id,
      object: 'subscription',
      application: null,
      billing_cycle_anchor: created,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created,
      currency: items[0]?.price.currency,
      customer,
      default_payment_method: null,
      description: str(params, 'description') ?? null,
      discounts: [],
      ended_at: null,
      items: {
        object: 'list',
        data: items,
        has_more: false,
        total_count: items.length,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: metadata(params.metadata),
      pause_collection: null,
      schedule: null,
      start_date: created,
      status: 'active',
      test_clock: null,
      trial_end: null,
      trial_start: null,
    });
  }

  function listSubscriptions(query: Form) {
    const customer = str(query, 'customer');
    const status = str(query, 'status');
    // Like Stripe: without a status, canceled subscriptions are left out; `all` includes them.
    const matches = (s: StandInSubscription) =>
      (customer === undefined || s.customer === customer) &&
      (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status));
    return page(newest(subscriptions).filter(matches), '/v1/subscriptions', query);
  }

  function cancelSubscription(_: Form, id: string): StandInSubscription {
    const subscription = find(subscriptions, 'subscription', id);
    // Stripe treats a canceled subscription as gone when asked to cancel it again.
    if (subscription.status === 'canceled') throw noSuch('subscription', id);
    const at = now();
    Object.assign(subscription, {
      status: 'canceled',
      canceled_at: at,
      ended_at: at,
      cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' },
    });
    return subscription;
  }

  const routes: Record<string, Handler> = {
    'POST /v1/customers': createCustomer,
    'GET /v1/customers': (query) => {
      const email = str(query, 'email');
      const matches = (c: StandInCustomer) => email === undefined || c.email === email;
      return page(newest(customers).filter(matches), '/v1/customers', query);
    },
    'GET /v1/customers/:id': (_, id) => find(customers, 'customer', id),
    'POST /v1/customers/:id': updateCustomer,
    'POST /v1/products': (params) => store(products, newProduct(params)),
    'GET /v1/products/:id': (_, id) => find(products, 'product', id),
    'POST /v1/prices': createPrice,
    'GET /v1/prices': listPrices,
    'GET /v1/prices/:id': (_, id) => find(prices, 'price', id),
    'POST /v1/billing/meters': createMeter,
    'GET /v1/billing/meters': (query) => {
      const status = str(query, 'status');
      const matches = (meter: Meter) => status === undefined || meter.status === status;
      return page(newest(meters).filter(matches), '/v1/billing/meters', query);
    },
    'GET /v1/billing/meters/:id': (_, id) => find(meters, 'billing meter', id),
    'GET /v1/billing/meters/:id/event_summaries': eventSummaries,
    'POST /v1/billing/meter_events': createMeterEvent,
    'POST /v1/subscriptions': createSubscription,
    'GET /v1/subscriptions': listSubscriptions,
    'GET /v1/subscriptions/:id': (_, id) => find(subscriptions, 'subscription', id),
    'POST /v1/subscriptions/:id': (params, id) => {
      const subscription = find(subscriptions, 'subscription', id);
      subscription.metadata = metadata(params.metadata, subscription.metadata);
      return subscription;
    },
    'DELETE /v1/subscriptions/:id': cancelSubscription,
    'GET /v1/invoices/:id': (_, id) => find(invoices, 'invoice', id),
  };

  function route(method: string, path: string): [Handler, string] | undefined {
    const segments = path.split('/');
    for (const [key, handler] of Object.entries(routes)) {
      const [routeMethod, pattern = ''] = key.split(' ');
      const parts = pattern.split('/');
      if (routeMethod !== method || parts.length !== segments.length) continue;
      const id = decodeURIComponent(segments[parts.indexOf(':id')] ?? '');
      if (parts.every((part, i) => (part === ':id' ? id !== '' : part === segments[i]))) return [handler, id];
    }
    return undefined;
  }

  return {
    /** Answers one request's JSON body, or throws an `ApiError`. */
    handle(method: string, path: string, params: Form): unknown {
      const match = route(method, path);
      if (!match) {
        throw new ApiError(404, {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}). The Stripe stand-in does not implement it.`,
        });
      }
      return match[0](params, match[1]);
    },

    meterEvents: (): AcceptedMeterEvent[] => meterEvents.map((event) => ({ ...event })),
    customers: (): StandInCustomer[] => [...customers.values()].map((c) => structuredClone(c)),
    subscriptions: (): StandInSubscription[] => [...subscriptions.values()].map((s) => structuredClone(s)),

    /** An invoice in Stripe's shape, kept so that `GET /v1/invoices/:id` finds it. */
    invoice(fields: InvoiceFields): Record<string, unknown> {
      const created = now();
      const id = stripeId('in');
      const status = fields.status ?? 'paid';
      const amount_due = fields.amount_due ?? 0;
      const amount_paid = fields.amount_paid ?? (status === 'paid' ? amount_due : 0);
      const customer = customers.get(fields.customer);
      const invoice = {
        id,
        object: 'invoice',
        amount_due,
        amount_paid,
        amount_remaining: amount_due - amount_paid,
        attempt_count: status === 'draft' ? 0 : 1,
        attempted: status !== 'draft',
        billing_reason: fields.subscription ? 'subscription_cycle' : 'manual',
        collection_method: 'charge_automatically',
        created,
        currency: fields.currency ?? 'usd',
        customer: fields.customer,
        customer_email: customer?.email ?? null,
        customer_name: customer?.name ?? null,
        description: null,
        lines: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/invoices/${id}/lines` },
        livemode: false,
        metadata: fields.metadata ?? {},
        // Since API version 2025-03-31 the subscription is under `parent`, no longer top-level.
        parent: fields.subscription
          ? {
              type: 'subscription_details',
              quote_details: null,
              subscription_details: { metadata: null, subscription: fields.subscription },
            }
          : null,
        period_end: fields.period_end ?? created,
        period_start: fields.period_start ?? created,
        status,
        status_transitions: {
          finalized_at: status === 'draft' ? null : created,
          marked_uncollectible_at: status === 'uncollectible' ? created : null,
          paid_at: status === 'paid' ? created : null,
          voided_at: status === 'void' ? created : null,
        },
        subtotal: amount_due,
        total: amount_due,
      };
      return structuredClone(store(invoices, invoice));
    },
  };
}

export type StripeApi = ReturnType<typeof createStripeApi>;
