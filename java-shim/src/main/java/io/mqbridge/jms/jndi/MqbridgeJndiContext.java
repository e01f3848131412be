package io.mqbridge.jms.jndi;

import io.mqbridge.jms.MqbridgeQueue;
import io.mqbridge.jms.MqbridgeTopic;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import javax.naming.Binding;
import javax.naming.CompositeName;
import javax.naming.Context;
import javax.naming.InvalidNameException;
import javax.naming.Name;
import javax.naming.NameClassPair;
import javax.naming.NameNotFoundException;
import javax.naming.NameParser;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.OperationNotSupportedException;

/**
 * The read-only JNDI context of {@link MqbridgeInitialContextFactory}: the configured
 * bindings (names may contain {@code /}: each prefix is a subcontext), plus
 * {@code dynamicQueues/NAME} and {@code dynamicTopics/NAME} made on lookup. Names are
 * composite names ({@code /}-separated). Binding, renaming and subcontext creation throw
 * {@link OperationNotSupportedException}: the bindings come from the environment only.
 */
final class MqbridgeJndiContext implements Context {
    private static final NameParser PARSER = CompositeName::new;

    private final Hashtable<Object, Object> environment;
    /** Full names (from the root) to objects. */
    private final Map<String, Object> bindings;
    /** This context's full name followed by "/", or "" for the root. */
    private final String prefix;

    MqbridgeJndiContext(Hashtable<Object, Object> environment, Map<String, Object> bindings, String prefix) {
        this.environment = environment;
        this.bindings = bindings;
        this.prefix = prefix;
    }

    /** The name's components joined by "/" (a composite name without its escapes). */
    private static String flat(Name name) throws InvalidNameException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.size(); i++) {
            String c = name.get(i);
            if (c.isEmpty() && i == name.size() - 1 && i > 0) {
                continue; // trailing "/"
            }
            if (c.isEmpty()) {
                throw new InvalidNameException("empty component in " + name);
            }
            if (b.length() > 0) {
                b.append('/');
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String flat(String name) throws NamingException {
        if (name == null) {
            throw new InvalidNameException("the name is null");
        }
        return name.isEmpty() ? "" : flat(new CompositeName(name));
    }

    /** Whether some binding lies below {@code full} (which is then a subcontext). */
    private boolean isContext(String full) {
        String p = full + "/";
        for (String k : bindings.keySet()) {
            if (k.startsWith(p)) {
                return true;
            }
        }
        return full.equals(MqbridgeInitialContextFactory.DYNAMIC_QUEUES)
                || full.equals(MqbridgeInitialContextFactory.DYNAMIC_TOPICS);
    }

    private Object resolve(String relative, String asGiven) throws NamingException {
        if (relative.isEmpty()) {
            return new MqbridgeJndiContext(new Hashtable<>(environment), bindings, prefix);
        }
        String full = prefix + relative;
        Object bound = bindings.get(full);
        if (bound != null) {
            return bound;
        }
        int slash = full.indexOf('/');
        if (slash > 0 && slash < full.length() - 1) {
            String head = full.substring(0, slash);
            String tail = full.substring(slash + 1);
            if (head.equals(MqbridgeInitialContextFactory.DYNAMIC_QUEUES)) {
                return new MqbridgeQueue(tail);
            }
            if (head.equals(MqbridgeInitialContextFactory.DYNAMIC_TOPICS)) {
                return new MqbridgeTopic(tail);
            }
        }
        if (isContext(full)) {
            return new MqbridgeJndiContext(new Hashtable<>(environment), bindings, full + "/");
        }
        NameNotFoundException e = new NameNotFoundException(asGiven + " is not bound in the mqbridge JNDI context"
                + " (configure connectionFactoryNames, queue.<name>, topic.<name>, or look up"
                + " dynamicQueues/<name>, dynamicTopics/<name>)");
        e.setRemainingName(new CompositeName(asGiven));
        throw e;
    }

    @Override
    public Object lookup(Name name) throws NamingException {
        return resolve(flat(name), name.toString());
    }

    @Override
    public Object lookup(String name) throws NamingException {
        return resolve(flat(name), name);
    }

    @Override
    public Object lookupLink(Name name) throws NamingException {
        return lookup(name);
    }

    @Override
    public Object lookupLink(String name) throws NamingException {
        return lookup(name);
    }

    /** The direct children of context {@code relative}: name to object (or subcontext). */
    private Map<String, Object> children(String relative, String asGiven) throws NamingException {
        Object target = resolve(relative, asGiven);
        if (!(target instanceof MqbridgeJndiContext)) {
            throw new javax.naming.NotContextException(asGiven + " is not a context");
        }
        String p = ((MqbridgeJndiContext) target).prefix;
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : bindings.entrySet()) {
            if (!e.getKey().startsWith(p)) {
                continue;
            }
            String rest = e.getKey().substring(p.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                out.put(rest, e.getValue());
            } else {
                String sub = rest.substring(0, slash);
                out.putIfAbsent(sub, new MqbridgeJndiContext(new Hashtable<>(environment), bindings, p + sub + "/"));
            }
        }
        return out;
    }

    @Override
    public NamingEnumeration<NameClassPair> list(Name name) throws NamingException {
        return list(name.toString());
    }

    @Override
    public NamingEnumeration<NameClassPair> list(String name) throws NamingException {
        List<NameClassPair> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : children(flat(name), name).entrySet()) {
            out.add(new NameClassPair(e.getKey(), e.getValue().getClass().getName()));
        }
        return new Enumeration<>(out);
    }

    @Override
    public NamingEnumeration<Binding> listBindings(Name name) throws NamingException {
        return listBindings(name.toString());
    }

    @Override
    public NamingEnumeration<Binding> listBindings(String name) throws NamingException {
        List<Binding> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : children(flat(name), name).entrySet()) {
            out.add(new Binding(e.getKey(), e.getValue()));
        }
        return new Enumeration<>(out);
    }

    private static OperationNotSupportedException readOnly(String what) {
        return new OperationNotSupportedException(what + ": the mqbridge JNDI context is read-only"
                + " (its bindings come from the environment / jndi.properties)");
    }

    @Override
    public void bind(Name name, Object obj) throws NamingException {
        throw readOnly("bind");
    }

    @Override
    public void bind(String name, Object obj) throws NamingException {
        throw readOnly("bind");
    }

    @Override
    public void rebind(Name name, Object obj) throws NamingException {
        throw readOnly("rebind");
    }

    @Override
    public void rebind(String name, Object obj) throws NamingException {
        throw readOnly("rebind");
    }

    @Override
    public void unbind(Name name) throws NamingException {
        throw readOnly("unbind");
    }

    @Override
    public void unbind(String name) throws NamingException {
        throw readOnly("unbind");
    }

    @Override
    public void rename(Name oldName, Name newName) throws NamingException {
        throw readOnly("rename");
    }

    @Override
    public void rename(String oldName, String newName) throws NamingException {
        throw readOnly("rename");
    }

    @Override
    public void destroySubcontext(Name name) throws NamingException {
        throw readOnly("destroySubcontext");
    }

    @Override
    public void destroySubcontext(String name) throws NamingException {
        throw readOnly("destroySubcontext");
    }

    @Override
    public Context createSubcontext(Name name) throws NamingException {
        throw readOnly("createSubcontext");
    }

    @Override
    public Context createSubcontext(String name) throws NamingException {
        throw readOnly("createSubcontext");
    }

    @Override
    public NameParser getNameParser(Name name) {
        return PARSER;
    }

    @Override
    public NameParser getNameParser(String name) {
        return PARSER;
    }

    @Override
    public Name composeName(Name name, Name prefix) throws NamingException {
        Name result = (Name) prefix.clone();
        result.addAll(name);
        return result;
    }

    @Override
    public String composeName(String name, String prefix) throws NamingException {
        return composeName(new CompositeName(name), new CompositeName(prefix)).toString();
    }

    /** Environment changes affect this context only; the bindings were made from the initial one. */
    @Override
    public Object addToEnvironment(String propName, Object propVal) {
        return environment.put(propName, propVal);
    }

    @Override
    public Object removeFromEnvironment(String propName) {
        return environment.remove(propName);
    }

    @Override
    public Hashtable<?, ?> getEnvironment() {
        return new Hashtable<>(environment);
    }

    @Override
    public void close() {}

    @Override
    public String getNameInNamespace() {
        return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
    }

    @Override
    public String toString() {
        return "MqbridgeJndiContext(" + getNameInNamespace() + ")";
    }

    /** A NamingEnumeration over a list. */
    private static final class Enumeration<T> implements NamingEnumeration<T> {
        private final Iterator<T> it;

        Enumeration(List<T> items) {
            it = items.iterator();
        }

        @Override
        public T next() {
            return it.next();
        }

        @Override
        public boolean hasMore() {
            return it.hasNext();
        }

        @Override
        public void close() {}

        @Override
        public boolean hasMoreElements() {
            return it.hasNext();
        }

        @Override
        public T nextElement() {
            if (!it.hasNext()) {
                throw new NoSuchElementException();
            }
            return it.next();
        }
    }
}
