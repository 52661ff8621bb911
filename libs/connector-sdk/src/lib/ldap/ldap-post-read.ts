/**
 * The LDAP post-read control (RFC 4527): sent with an add, the server
 * answers with the named attributes of the entry as it stands after the
 * add, so a server-assigned anchor arrives with the add's own response
 * instead of costing a second round trip.
 */
import { Attribute, Ber, BerReader, BerWriter, Control, InvalidAsn1Error } from 'ldapts';

/** The LDAPMessage tag of a SearchResultEntry ([APPLICATION 4], constructed): the form of the control's response value. */
const SEARCH_RESULT_ENTRY = 0x64;

/**
 * One control per request: ldapts parses a response control into the
 * request's control of the same OID, so after the operation `attributes`
 * holds what the server sent (empty when the server ignored the control).
 */
export class PostReadControl extends Control {
  static readonly type = '1.3.6.1.1.13.2';

  /** The attributes of the entry after the operation, from the server's response control. */
  readonly attributes: Attribute[] = [];

  constructor(private readonly selection: string[]) {
    // Not critical: a server that does not know the control still applies the add, and the anchor is read afterwards.
    super(PostReadControl.type, { critical: false });
  }

  /** The values of one attribute of the response as bytes; the name matches case-insensitively. */
  values(name: string): Buffer[] {
    const wanted = name.toLowerCase();
    return this.attributes.find((a) => a.type.toLowerCase() === wanted)?.parsedBuffers ?? [];
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    for (const name of this.selection) value.writeString(name);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    this.attributes.length = 0;
    try {
      if (reader.peek() !== SEARCH_RESULT_ENTRY || reader.readSequence() === null) return;
      reader.readString(); // the entry's DN
      if (reader.readSequence() === null) return;
      const end = reader.offset + reader.length;
      while (reader.offset < end) {
        const attribute = new Attribute();
        attribute.parse(reader);
        this.attributes.push(attribute);
      }
    } catch (error) {
      // A value that does not decode must not fail the add that carried it: the anchor is then read afterwards.
      if (!(error instanceof InvalidAsn1Error)) throw error;
      this.attributes.length = 0;
    }
  }
}
