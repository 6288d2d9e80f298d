/**
 * OBJECT_STORE_URL, in one of two forms:
 *   s3://<bucket>[/<prefix>]                                 Amazon S3; credentials and region from the AWS SDK's
 *                                                            usual places (AWS_* variables, ~/.aws, an instance role)
 *   http(s)://[<key>:<secret>@]<host>[:<port>]/<bucket>[/<prefix>]   any S3-compatible server (MinIO, Garage,
 *                                                            Cloudflare R2, Ceph…), addressed path-style
 */
export interface ObjectStoreLocation {
  /** Absent for s3:// (the SDK finds AWS's endpoint from the region). */
  endpoint?: string;
  bucket: string;
  /** Key prefix, empty or ending in '/'. */
  prefix: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function parseObjectStoreUrl(raw: string): ObjectStoreLocation {
  const url = new URL(raw);
  const isAws = url.protocol === 's3:';
  if (!isAws && url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('the scheme must be s3, http or https');
  // s3://bucket/prefix puts the bucket in the host; http(s)://host/bucket/prefix in the first path segment.
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const bucket = isAws ? url.hostname : segments.shift();
  if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error('expected a bucket name (3 to 63 lower-case letters, digits, dots and dashes)');
  const prefix = segments.length ? `${segments.join('/')}/` : '';
  const credentials =
    url.username && url.password
      ? { accessKeyId: decodeURIComponent(url.username), secretAccessKey: decodeURIComponent(url.password) }
      : undefined;
  return { endpoint: isAws ? undefined : `${url.protocol}//${url.host}`, bucket, prefix, credentials };
}
