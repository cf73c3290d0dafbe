// Paged lists, shared by every part of the Store port.
export interface ListQuery {
  page: number;
  perPage: number;
}

export interface ListResult<T> {
  items: T[];
  total: number;
}
