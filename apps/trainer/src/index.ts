/** @vmr/trainer — see DESIGN.md §2. Exports its `vmr` subcommands as `commands`. */
import type { VmrCommand } from '@vmr/core';

export const commands: VmrCommand[] = [];
