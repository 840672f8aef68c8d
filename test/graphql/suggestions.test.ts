import { gql } from '../support/http';

describe('with introspection on (the default outside production)', () => {
  it('keeps GraphQL’s "Did you mean" hints, for developers', async () => {
    const field = await gql('{ chatz { chat_id } }');
    expect(field.json.errors[0].message).toMatch(/Did you mean "chat" or "chats"\?/);
    const value = await gql(
      'mutation($s: Sender!) { add_message(chat_id: 1, content: "x", sender: $s) { message_id } }',
      {
        s: 'usr',
      },
    );
    expect(value.json.errors[0].message).toMatch(/Did you mean the enum value "user"\?/);
  });
});
