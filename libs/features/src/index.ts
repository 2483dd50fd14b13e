/** @vmr/features — see DESIGN.md §2. Public API is exported from here. */
export {};
export * from './audio';
