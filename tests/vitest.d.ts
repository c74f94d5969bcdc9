// Values tests/global-setup.ts hands to test files through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Full URL of this run's migrated database: mysql://user@host:port/shop_test_… */
    databaseUrl: string;
  }
}

export {};
