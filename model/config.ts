/**
 * The stack config's `model` section: failure rates, mechanism timings and prices that override
 * the model's defaults. The stack program reads it with the rest of the config (one error for
 * every problem) and exports it beside the topology for the preview.
 */
import { Reader, readOverrides } from "../components/config";
import { DEFAULT_RATES, FailureRates } from "./availability";
import { DEFAULT_PRICES, Prices } from "./cost";
import { DEFAULT_TIMINGS, Timings } from "./evaluate";

export interface ModelConfig {
    readonly rates: FailureRates;
    readonly timings: Timings;
    readonly prices: Prices;
}

/** Reads the `model` section; every value is optional and falls back to the model's default. */
export function readModelConfig(r: Reader, value: unknown): ModelConfig | undefined {
    const node = r.object(value, "model", ["rates", "timings", "prices"]);
    if (!node) {
        return undefined;
    }
    const rates = readOverrides(r, node.rates, "model.rates", DEFAULT_RATES);
    const timings = readOverrides(r, node.timings, "model.timings", DEFAULT_TIMINGS);
    const prices = readOverrides(r, node.prices, "model.prices", DEFAULT_PRICES);
    return rates && timings && prices ? { rates, timings, prices } : undefined;
}
