/** Lessons: the file's schema, reading and instantiating it, and the checks judged on the model. */
export * from './schema';
export * from './lesson';
export * from './check';
export * from './protocol';
export * from './command';
