// Tags transaction objects under the size limit as replication-eligible.
// S3 replicates an object when it is written, so the tag is written *with* the object: the
// object is copied onto itself with the tag (a new version), and only that version replicates.
const { S3Client, GetObjectTaggingCommand, CopyObjectCommand } = require('@aws-sdk/client-s3');

const s3 = new S3Client({});
const TAG_KEY = process.env.TAG_KEY;
const TAG_VALUE = process.env.TAG_VALUE;
const LIMIT = Number(process.env.SIZE_LIMIT_BYTES);

exports.handler = async (event) => {
  for (const record of event.Records ?? []) {
    const bucket = record.s3.bucket.name;
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    if (record.s3.object.size >= LIMIT) {
      console.log(JSON.stringify({ key, size: record.s3.object.size, replicate: false }));
      continue;
    }
    const { TagSet = [] } = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    if (TagSet.some((t) => t.Key === TAG_KEY && t.Value === TAG_VALUE)) continue; // our own copy
    const tags = [...TagSet.filter((t) => t.Key !== TAG_KEY), { Key: TAG_KEY, Value: TAG_VALUE }];
    await s3.send(new CopyObjectCommand({
      Bucket: bucket,
      Key: key,
      CopySource: `${bucket}/${encodeURIComponent(key)}`,
      MetadataDirective: 'COPY',
      TaggingDirective: 'REPLACE',
      Tagging: new URLSearchParams(tags.map((t) => [t.Key, t.Value])).toString(),
    }));
    console.log(JSON.stringify({ key, size: record.s3.object.size, replicate: true }));
  }
};
