// The API's files in the data folder, named once for the daemon and eventctl.
export const apiSocketFileName = 'api.sock';
export const apiTokenFileName = 'api-token';
/** The name the generated token's holder gets in createdBy and the audit. */
export const generatedTokenName = 'api-token';
