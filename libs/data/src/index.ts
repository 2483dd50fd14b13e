/** @vmr/data — see DESIGN.md §2. Public API is exported from here. */
export {};
