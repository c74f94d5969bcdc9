/** Page sizes of the list operations: a domain rule, shared by the services and the request schemas. */
export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 10;
