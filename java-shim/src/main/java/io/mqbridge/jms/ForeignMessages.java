package io.mqbridge.jms;

import java.util.Enumeration;
import javax.jms.BytesMessage;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageEOFException;
import javax.jms.ObjectMessage;
import javax.jms.StreamMessage;
import javax.jms.TextMessage;

/**
 * Messages of another JMS provider handed to our producers (JMS 2.0 §3.12: a provider must
 * accept them): copied through the public API into our own types, and after the send the
 * send-time headers written back to the application's message, as ActiveMQ's client does.
 */
final class ForeignMessages {
    private ForeignMessages() {}

    /** A copy of {@code foreign} as one of our messages: headers, properties and body. */
    static MqbridgeMessage copy(Message foreign) throws JMSException {
        MqbridgeMessage m;
        if (foreign instanceof TextMessage) {
            MqbridgeTextMessage t = new MqbridgeTextMessage();
            t.setText(((TextMessage) foreign).getText());
            m = t;
        } else if (foreign instanceof BytesMessage) {
            BytesMessage from = (BytesMessage) foreign;
            from.reset();
            long length = from.getBodyLength();
            if (length > Integer.MAX_VALUE) {
                throw new javax.jms.MessageFormatException("a BytesMessage of " + length + " bytes is too large");
            }
            byte[] body = new byte[(int) length];
            from.readBytes(body);
            MqbridgeBytesMessage b = new MqbridgeBytesMessage();
            b.writeBytes(body);
            m = b;
        } else if (foreign instanceof MapMessage) {
            MapMessage from = (MapMessage) foreign;
            MqbridgeMapMessage map = new MqbridgeMapMessage();
            Enumeration<?> names = from.getMapNames();
            while (names.hasMoreElements()) {
                String name = (String) names.nextElement();
                map.setObject(name, from.getObject(name));
            }
            m = map;
        } else if (foreign instanceof StreamMessage) {
            StreamMessage from = (StreamMessage) foreign;
            from.reset();
            MqbridgeStreamMessage stream = new MqbridgeStreamMessage();
            while (true) {
                Object item;
                try {
                    item = from.readObject();
                } catch (MessageEOFException end) {
                    break;
                }
                stream.writeObject(item);
            }
            m = stream;
        } else if (foreign instanceof ObjectMessage) {
            MqbridgeObjectMessage o = new MqbridgeObjectMessage();
            o.setObject(((ObjectMessage) foreign).getObject());
            m = o;
        } else {
            m = new MqbridgeMessage();
        }
        m.setJMSCorrelationID(foreign.getJMSCorrelationID());
        m.setJMSType(foreign.getJMSType());
        if (foreign.getJMSReplyTo() != null) {
            m.setJMSReplyTo(MqbridgeDestination.from(foreign.getJMSReplyTo()));
        }
        Enumeration<?> names = foreign.getPropertyNames();
        while (names.hasMoreElements()) {
            String name = (String) names.nextElement();
            // JMSX properties the provider sets on delivery (JMSXDeliveryCount, ...) are not
            // the application's to send; the group ones are.
            if (name.startsWith("JMSX") && !name.equals("JMSXGroupID") && !name.equals("JMSXGroupSeq")) {
                continue;
            }
            m.setObjectProperty(name, foreign.getObjectProperty(name));
        }
        return m;
    }

    /** After the send: the headers the send set, on the application's own message. */
    static void writeBack(MqbridgeMessage sent, Message foreign) throws JMSException {
        foreign.setJMSMessageID(sent.getJMSMessageID());
        foreign.setJMSDestination(sent.getJMSDestination());
        foreign.setJMSDeliveryMode(sent.getJMSDeliveryMode());
        foreign.setJMSPriority(sent.getJMSPriority());
        foreign.setJMSTimestamp(sent.getJMSTimestamp());
        foreign.setJMSExpiration(sent.getJMSExpiration());
        foreign.setJMSDeliveryTime(sent.getJMSDeliveryTime());
    }
}
