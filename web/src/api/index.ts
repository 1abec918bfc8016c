// The dashboard's API: the typed client and its helpers, and the shapes derived from the document.
export * from './client';
export type * from './types';
