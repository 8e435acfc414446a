// The analysis's original health check: reads one fixed item, no index query, no metrics.
const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');

const db = new DynamoDBClient({});

exports.handler = async () => {
  const result = await db.send(new GetItemCommand({
    TableName: process.env.TABLE_NAME,
    Key: { transactionId: { S: 'health-check' }, timestamp: { N: '0' } },
  }));
  return { healthy: Boolean(result.Item) };
};
