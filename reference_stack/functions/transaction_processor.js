// Records a submitted transaction (an EventBridge event) in the transactions table.
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');

const db = new DynamoDBClient({});

exports.handler = async (event) => {
  const { transactionId, amount, currency = 'USD' } = event.detail ?? {};
  if (!transactionId) throw new Error('event detail has no transactionId');
  await db.send(new PutItemCommand({
    TableName: process.env.TABLE_NAME,
    Item: {
      transactionId: { S: String(transactionId) },
      timestamp: { N: String(Date.now()) },
      status: { S: 'active' },
      amount: { N: String(amount ?? 0) },
      currency: { S: currency },
    },
    ConditionExpression: 'attribute_not_exists(transactionId)',
  }));
  return { transactionId, status: 'active' };
};
