package io.mqbridge.jms;

import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import javax.jms.ConnectionMetaData;

/** Provider metadata: JMS 2.0, provider mqbridge-jms 0.1. */
final class MqbridgeMetaData implements ConnectionMetaData {
    static final MqbridgeMetaData INSTANCE = new MqbridgeMetaData();

    private MqbridgeMetaData() {}

    @Override
    public String getJMSVersion() {
        return "2.0";
    }

    @Override
    public int getJMSMajorVersion() {
        return 2;
    }

    @Override
    public int getJMSMinorVersion() {
        return 0;
    }

    @Override
    public String getJMSProviderName() {
        return "mqbridge-jms";
    }

    @Override
    public String getProviderVersion() {
        return "0.1";
    }

    @Override
    public int getProviderMajorVersion() {
        return 0;
    }

    @Override
    public int getProviderMinorVersion() {
        return 1;
    }

    /** The JMSX properties this provider supports. */
    @Override
    public Enumeration<String> getJMSXPropertyNames() {
        return Collections.enumeration(List.of("JMSXDeliveryCount", "JMSXGroupID", "JMSXGroupSeq", "JMSXUserID"));
    }
}
