/** A URL with its password (if any) replaced, fit for logs and error messages. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@\s]*:)[^@/\s]*@/i, '$1***@');
}
