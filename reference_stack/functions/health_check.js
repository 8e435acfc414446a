// Checks that recent transactions are visible in this region and publishes the result as metrics.
const { DynamoDBClient, QueryCommand } = require('@aws-sdk/client-dynamodb');
const { CloudWatchClient, PutMetricDataCommand } = require('@aws-sdk/client-cloudwatch');

const db = new DynamoDBClient({});
const cloudwatch = new CloudWatchClient({});

exports.handler = async () => {
  const started = Date.now();
  const latest = await db.send(new QueryCommand({
    TableName: process.env.TABLE_NAME,
    IndexName: process.env.INDEX_NAME,
    KeyConditionExpression: '#status = :status',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': { S: 'active' } },
    Limit: 1,
    ScanIndexForward: false,
  }));
  const newest = latest.Items?.[0]?.timestamp?.N;
  const lagSeconds = newest ? (Date.now() - Number(newest)) / 1000 : -1;
  await cloudwatch.send(new PutMetricDataCommand({
    Namespace: process.env.METRIC_NAMESPACE,
    MetricData: [
      { MetricName: 'Healthy', Value: newest ? 1 : 0, Unit: 'Count' },
      { MetricName: 'ReplicationLagSeconds', Value: lagSeconds, Unit: 'Seconds' },
      { MetricName: 'CheckDurationMs', Value: Date.now() - started, Unit: 'Milliseconds' },
    ],
  }));
  return { healthy: Boolean(newest), lagSeconds };
};
