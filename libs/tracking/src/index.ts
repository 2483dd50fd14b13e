/** @vmr/tracking — run store. */
import type { VmrCommand } from "@vmr/core";
export * from "./schema";
export const commands: VmrCommand[] = [];
