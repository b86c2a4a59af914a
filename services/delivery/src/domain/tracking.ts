// Live-tracking rules as plain functions: what makes a position fix acceptable, how fast a courier may report, how
// far it is to go and when it will arrive. No I/O here: the hub (app/tracking-hub.ts) keeps the state and the clock.
import type { CourierFix, GeoPoint, TrackedStatus } from './types';

/** One accepted position fix. */
export type Fix = CourierFix;
export type { GeoPoint };

/** A fix as it arrives, before validation: any field may be missing or nonsense. */
export interface RawFix {
  point?: GeoPoint | undefined;
  time?: Date | undefined;
  speedMps: number;
  headingDeg: number;
  accuracyM: number;
}

/** Why a report was dropped: the keys of ReportPositionsResponse.rejected. */
export type RejectReason = 'out_of_range' | 'time_not_rising' | 'time_in_future' | 'rate_limited' | 'missing_field';

/** A validated fix, or why it was dropped. */
export type FixVerdict = { ok: true; fix: Fix } | { ok: false; reason: RejectReason };

/** Reported speeds above this (m/s, ~360 km/h) are refused as nonsense. */
export const MAX_REPORTED_SPEED_MPS = 100;
/** Reported accuracies worse than this (metres) are refused: such a fix places the courier nowhere useful. */
export const MAX_ACCURACY_M = 10_000;
/** How far ahead of the server's clock a device's clock may be. */
export const MAX_FUTURE_MS = 30_000;

/**
 * Checks one report: every number finite, latitude -90..90, longitude -180..180, heading 0..360, speed
 * 0..MAX_REPORTED_SPEED_MPS, accuracy 0..MAX_ACCURACY_M; a time present, not more than MAX_FUTURE_MS ahead of `nowMs`
 * and strictly after `previousMs` (the courier's last accepted fix). Checks run in that order, so a report with
 * several faults is counted under the first.
 */
export function validateFix(raw: RawFix, context: { previousMs?: number; nowMs: number }): FixVerdict {
  const { point, time } = raw;
  if (!point || !time || Number.isNaN(time.getTime())) return { ok: false, reason: 'missing_field' };
  if (!inRange(point.latitude, -90, 90) || !inRange(point.longitude, -180, 180)) {
    return { ok: false, reason: 'out_of_range' };
  }
  if (
    !inRange(raw.speedMps, 0, MAX_REPORTED_SPEED_MPS) ||
    !inRange(raw.accuracyM, 0, MAX_ACCURACY_M) ||
    !inRange(raw.headingDeg, 0, 360)
  ) {
    return { ok: false, reason: 'out_of_range' };
  }
  const ms = time.getTime();
  if (ms > context.nowMs + MAX_FUTURE_MS) return { ok: false, reason: 'time_in_future' };
  if (context.previousMs !== undefined && ms <= context.previousMs) return { ok: false, reason: 'time_not_rising' };
  return {
    ok: true,
    fix: {
      point: { latitude: point.latitude, longitude: point.longitude },
      time: new Date(ms),
      speedMps: raw.speedMps,
      headingDeg: raw.headingDeg,
      accuracyM: raw.accuracyM,
    },
  };
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isFinite(value) && value >= min && value <= max;
}

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up (default one second's worth). One per
 * courier stream; a report that finds the bucket empty is dropped as "rate_limited".
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;
  private readonly burst: number;

  constructor(
    private readonly ratePerSecond: number,
    burst?: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`Token bucket rate must be above 0, got ${ratePerSecond}`);
    this.burst = burst ?? ratePerSecond;
    this.tokens = this.burst;
  }

  /** Takes a token at `nowMs`; false when none is left. A clock going backwards adds nothing. */
  take(nowMs: number): boolean {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSecond);
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;
const RADIANS = Math.PI / 180;

/** Great-circle distance in metres (haversine); fine across the antimeridian and at the poles. */
export function distanceM(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.latitude - a.latitude) * RADIANS;
  const dLon = (b.longitude - a.longitude) * RADIANS;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * RADIANS) * Math.cos(b.latitude * RADIANS) * Math.sin(dLon / 2) ** 2;
  // Rounding can push h a hair outside 0..1 for (nearly) antipodal points; asin would answer NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, Math.max(0, h))));
}

/** Speed assumed with no data at all: an e-bike in town (~14 km/h). */
export const DEFAULT_SPEED_MPS = 4;
/** The speed an ETA uses is kept within this range, so a stop at a red light does not make it infinite. */
export const MIN_ETA_SPEED_MPS = 1;
export const MAX_ETA_SPEED_MPS = 30;
/** Straight-line distance times this approximates the distance by road. */
export const ROAD_FACTOR = 1.3;
/** Observed speeds are measured over at least this long, so GPS jitter between fast pings is not read as speed. */
const SAMPLE_MIN_S = 3;
/** Longer gaps than this tell nothing about the current speed: the sample restarts from the new fix. */
const SAMPLE_MAX_S = 120;
/** Below this the courier is standing (waiting at the store, a red light): its travel speed is not updated. */
const MOVING_MPS = 0.5;
/** Above this a sample is a GPS glitch (a jump), not speed. */
const GLITCH_MPS = 70;
/** Time constant of the moving average: samples older than about this count little. */
const EWMA_TAU_S = 30;

/** What the speed estimator remembers between fixes (one per courier on a shipment). */
export interface SpeedState {
  /** Moving average of the observed travel speed, m/s; undefined until a first moving sample. */
  averageMps?: number;
  /** The fix the next sample is measured from. */
  anchor?: { point: GeoPoint; timeMs: number; accuracyM: number };
  /** The last fix's reported speed (0 when unknown). */
  reportedMps: number;
}

/** The estimator's state before any fix. */
export function initialSpeed(): SpeedState {
  return { reportedMps: 0 };
}

/**
 * The state after one more fix. Speed is observed as distance over time from an anchor fix at least SAMPLE_MIN_S
 * back, smoothed by an exponentially weighted moving average whose weight grows with the sample's duration (so
 * the ping rate does not change the smoothing). Zero or negative elapsed time, gaps longer than SAMPLE_MAX_S, moves
 * within the fixes' accuracy (a standing courier), and glitch-sized jumps leave the average unchanged.
 */
export function nextSpeed(state: SpeedState, fix: Fix): SpeedState {
  const timeMs = fix.time.getTime();
  const here = { point: fix.point, timeMs, accuracyM: fix.accuracyM };
  const reportedMps = fix.speedMps;
  const anchor = state.anchor;
  if (!anchor) return { ...state, anchor: here, reportedMps };
  const seconds = (timeMs - anchor.timeMs) / 1000;
  if (seconds <= 0) return { ...state, reportedMps };
  if (seconds < SAMPLE_MIN_S) return { ...state, reportedMps };
  if (seconds > SAMPLE_MAX_S) return { ...state, anchor: here, reportedMps };
  const metres = distanceM(anchor.point, fix.point);
  const noise = Math.max(anchor.accuracyM, fix.accuracyM, 5);
  const observed = metres <= noise ? 0 : metres / seconds;
  if (observed > GLITCH_MPS || observed < MOVING_MPS) return { ...state, anchor: here, reportedMps };
  const weight = 1 - Math.exp(-seconds / EWMA_TAU_S);
  const averageMps =
    state.averageMps === undefined ? observed : state.averageMps + weight * (observed - state.averageMps);
  return { averageMps, anchor: here, reportedMps };
}

/**
 * The speed an ETA should assume: the observed average, else the device's reported speed when it says it is
 * moving, else DEFAULT_SPEED_MPS; always within MIN_ETA_SPEED_MPS..MAX_ETA_SPEED_MPS.
 */
export function etaSpeed(state: SpeedState): number {
  const raw =
    state.averageMps ??
    (state.reportedMps >= MOVING_MPS && Number.isFinite(state.reportedMps) ? state.reportedMps : DEFAULT_SPEED_MPS);
  return Math.min(MAX_ETA_SPEED_MPS, Math.max(MIN_ETA_SPEED_MPS, raw));
}

/** Shipment statuses as tracking sees them (the proto enum without its prefix). */
export type TrackingStatus = TrackedStatus;

/** Statuses in which the shipment's courier is on its way and reports positions for it. */
export const CARRYING_STATUSES: readonly TrackingStatus[] = ['ASSIGNED', 'PICKED_UP', 'OUT_FOR_DELIVERY'];

/** True when a courier is on the way with (or to collect) the shipment. */
export function isCarrying(status: TrackingStatus): boolean {
  return CARRYING_STATUSES.includes(status);
}

/** True for the statuses after which nothing changes any more: watching ends there. */
export function isFinal(status: TrackingStatus): boolean {
  return status === 'DELIVERED' || status === 'FAILED' || status === 'CANCELLED';
}

/** Distance left and the expected arrival. */
export interface Eta {
  remainingDistanceM: number;
  eta: Date;
}

/**
 * The ETA of a shipment from its courier's position: before collection (ASSIGNED) the courier rides to the origin
 * and then to the destination, afterwards (PICKED_UP, OUT_FOR_DELIVERY) straight to the destination. Straight-line
 * distance × ROAD_FACTOR, over `speedMps`, from `nowMs`. Undefined in other statuses (no courier on the way).
 */
export function estimateEta(input: {
  status: TrackingStatus;
  courier: GeoPoint;
  origin: GeoPoint;
  destination: GeoPoint;
  speedMps: number;
  nowMs: number;
}): Eta | undefined {
  let straight: number;
  switch (input.status) {
    case 'ASSIGNED':
      straight = distanceM(input.courier, input.origin) + distanceM(input.origin, input.destination);
      break;
    case 'PICKED_UP':
    case 'OUT_FOR_DELIVERY':
      straight = distanceM(input.courier, input.destination);
      break;
    case 'AWAITING_COURIER':
    case 'DELIVERED':
    case 'FAILED':
    case 'CANCELLED':
      return undefined;
  }
  const remainingDistanceM = Math.round(straight * ROAD_FACTOR);
  const speed = Math.min(MAX_ETA_SPEED_MPS, Math.max(MIN_ETA_SPEED_MPS, input.speedMps || DEFAULT_SPEED_MPS));
  return { remainingDistanceM, eta: new Date(input.nowMs + Math.round((remainingDistanceM / speed) * 1000)) };
}
