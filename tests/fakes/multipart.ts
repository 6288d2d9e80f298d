/**
 * multipart/form-data parsing for the fakes. SDKs write parts differently (grammY sends
 * `content-disposition:form-data;name="x";filename=y` without quotes or spaces), so this is lenient.
 */
export interface Multipart {
  fields: Record<string, string>;
  parts: Record<string, { bytes: Buffer; filename: string; contentType?: string }>;
}

export function parseMultipart(body: Buffer, contentType: string): Multipart {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  const fields: Multipart['fields'] = {};
  const parts: Multipart['parts'] = {};
  if (!boundary) return { fields, parts };
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // the CRLF after this delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]+)"/i.exec(headers)?.[1] ?? '';
    const filename = /filename="?([^";\r\n]+)"?/i.exec(headers)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (filename !== undefined) parts[name] = { bytes: Buffer.from(content), filename, contentType: type };
    else fields[name] = content.toString('utf8');
    pos = next;
  }
  return { fields, parts };
}
